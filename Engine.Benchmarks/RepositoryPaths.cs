namespace Engine.Benchmarks;

/// <summary>Where benchmark output goes: <c>artifacts/bench</c> under the repository, wherever the program is started from.</summary>
internal static class RepositoryPaths
{
    /// <summary>artifacts/bench under the repository root (the folder with Engine.sln), else under the current directory.</summary>
    internal static string BenchArtifacts
    {
        get
        {
            for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Engine.sln")))
                {
                    return Path.Combine(folder.FullName, "artifacts", "bench");
                }
            }

            return Path.Combine(Environment.CurrentDirectory, "artifacts", "bench");
        }
    }
}
