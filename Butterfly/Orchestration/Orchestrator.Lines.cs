using System.Globalization;

namespace Butterfly.Orchestration;

/// <summary>What the children say on stdout after READY, and what their exits mean.</summary>
internal sealed partial class Orchestrator
{
    private readonly HashSet<string> _draining = new(StringComparer.Ordinal);
    private readonly List<string> _drainReports = new();
    private Dictionary<string, long>? _result;

    /// <summary>Called from each child's listener task.</summary>
    private void OnLine(ChildProcess child, string line)
    {
        string word = line.Split(' ', 2)[0];
        switch (word)
        {
            case "STAT":
                _scoreboard.Update(child.Name, line);
                break;
            case "EVENT":
                OnSocketEvent(child, line);
                break;
            case "FIRST":
                OnFirstMovedReply();
                break;
            case "SENT":
                _sent.TrySetResult(Pairs(line));
                break;
            case "RESULT":
                _result = Pairs(line);
                break;
            case "DRAIN":
                lock (_drainReports)
                {
                    _drainReports.Add($"{child.Name} {line[6..]}");
                }

                _view.Event(Now, $"{child.Name} drain report: {line[6..]}");
                break;
            case "DONE" when IsDraining(child):
                _view.Event(Now, $"{child.Name} drained: {line[5..]}");
                break;
            case "DONE" or "STOPPED":
                break;
            default:
                _view.Line(Now, $"[{child.Name}] {line}");
                break;
        }
    }

    /// <summary>
    /// A child's stderr: problems, shown as they are, except the directory servers' connection
    /// chatter; their lease expiries are events (the killed intermediate2 leaving the directory).
    /// </summary>
    private void OnError(string child, string line)
    {
        if (!child.StartsWith("directory", StringComparison.Ordinal))
        {
            _view.Line(Now, $"[{child}] {line}");
        }
        else if (line.Contains("expired", StringComparison.Ordinal))
        {
            int start = line.IndexOf("lease", StringComparison.Ordinal);
            _view.Event(Now, $"{child}: {(start >= 0 ? line[start..] : line)}");
        }
    }

    private void OnSocketEvent(ChildProcess child, string line)
    {
        string? text = _narrator.Tell(child.Name, line);
        if (text is null || _flushing)
        {
            return;
        }

        if (_declaredDeadAt is null && _frozenAt is not null && line.StartsWith("EVENT PeerDead", StringComparison.Ordinal) && text.StartsWith("intermediate2 ", StringComparison.Ordinal))
        {
            _declaredDeadAt = Now;
            Milestone("intermediate2 declared dead", text);
            return;
        }

        _view.Event(Now, text);
    }

    private void OnFirstMovedReply()
    {
        _firstMovedTrafficAt = Now;
        string after = _movedServingAt is { } serving ? $", {_firstMovedTrafficAt - serving:0.0} s after it started serving" : string.Empty;
        Milestone("moved intermediate2 carries traffic", $"intermediate2 carries traffic again at its new address {_movedEndpoint}: first reply through it reached receive_replies{after}");
    }

    /// <summary>A child closed its stdout: expected at the end, after a kill or a drain; a failure otherwise.</summary>
    private void OnExit(ChildProcess child)
    {
        if (_stopping || child.KilledByScenario)
        {
            return;
        }

        // stdout closes a moment before the process is reaped: give it that moment.
        child.WaitForExitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        int? code = child.HasExited ? child.ExitCode : null;
        if (IsDraining(child))
        {
            _view.Event(Now, $"{child.Name} exited with code {code?.ToString(CultureInfo.InvariantCulture) ?? "?"} after its drain; the others carry the load");
            if (code != 0)
            {
                Fail($"{child.Name} exited with code {code} after its drain");
            }

            return;
        }

        _view.Event(Now, $"{child.Name} exited unexpectedly (code {code?.ToString(CultureInfo.InvariantCulture) ?? "?"})");
        Fail($"{child.Name} exited unexpectedly during the run");
    }

    private bool IsDraining(ChildProcess child)
    {
        lock (_draining)
        {
            return _draining.Contains(child.Name);
        }
    }

    /// <summary><c>WORD name=value ...</c> as a dictionary of the numeric values.</summary>
    private static Dictionary<string, long> Pairs(string line)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            string[] pair = word.Split('=', 2);
            if (pair.Length == 2 && long.TryParse(pair[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
            {
                values[pair[0]] = value;
            }
        }

        return values;
    }
}
