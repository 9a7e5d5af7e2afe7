using Engine.Sockets;

namespace Engine.Transport.Inproc;

/// <summary>
/// Process-wide names for <c>inproc://</c> endpoints. A connect before the bind is kept pending
/// (its pipes already take messages) and completed when the name is bound.
/// </summary>
internal static class InprocRegistry
{
    private static readonly object s_gate = new();
    private static readonly Dictionary<string, MessageSocket> s_bound = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, List<InprocLink>> s_pending = new(StringComparer.Ordinal);

    internal static void Bind(MessageSocket socket, string name)
    {
        List<InprocLink>? waiting;
        lock (s_gate)
        {
            if (s_bound.ContainsKey(name))
            {
                throw new InvalidOperationException($"inproc://{name} is already bound by another socket.");
            }

            s_bound[name] = socket;
            if (s_pending.Remove(name, out waiting))
            {
                foreach (InprocLink link in waiting)
                {
                    link.Complete(socket);
                }
            }
        }
    }

    internal static void Unbind(MessageSocket socket, string name)
    {
        lock (s_gate)
        {
            if (s_bound.TryGetValue(name, out MessageSocket? holder) && holder == socket)
            {
                s_bound.Remove(name);
            }
        }
    }

    internal static InprocLink Connect(MessageSocket socket, string name)
    {
        lock (s_gate)
        {
            var link = new InprocLink(socket, name);
            if (s_bound.TryGetValue(name, out MessageSocket? bound))
            {
                link.Complete(bound);
            }
            else
            {
                if (!s_pending.TryGetValue(name, out List<InprocLink>? list))
                {
                    s_pending[name] = list = new List<InprocLink>();
                }

                list.Add(link);
            }

            return link;
        }
    }

    internal static void CancelPending(InprocLink link)
    {
        lock (s_gate)
        {
            if (s_pending.TryGetValue(link.Name, out List<InprocLink>? list))
            {
                list.Remove(link);
                if (list.Count == 0)
                {
                    s_pending.Remove(link.Name);
                }
            }
        }
    }
}
