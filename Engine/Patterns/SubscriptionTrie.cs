namespace Engine.Patterns;

/// <summary>
/// Counted prefix subscriptions (RFC 29): a message matches when any subscribed topic is a prefix
/// of it; the empty topic matches everything. Matching walks the message once, never the list of
/// subscriptions.
/// </summary>
/// <remarks>
/// Each topic carries a count: subscribing twice needs two removals (the SUB side), or the caller
/// can treat it as a set with <see cref="AddOnce"/> (the PUB side, where each peer's subscriptions
/// are a set). Children are kept in small arrays searched linearly: topic alphabets are small.
/// </remarks>
internal sealed class SubscriptionTrie
{
    private readonly Node _root = new();

    /// <summary>Distinct topics with a count above zero.</summary>
    internal int TopicCount { get; private set; }

    /// <summary>Sum of the lengths of the distinct topics held (what the tree's size grows with).</summary>
    internal long TopicBytes { get; private set; }

    /// <summary>Adds one count to <paramref name="topic"/>; true when it was not subscribed before.</summary>
    internal bool Add(ReadOnlySpan<byte> topic)
    {
        Node node = _root;
        foreach (byte b in topic)
        {
            node = node.GetOrAddChild(b);
        }

        node.Count++;
        if (node.Count == 1)
        {
            TopicCount++;
            TopicBytes += topic.Length;
            return true;
        }

        return false;
    }

    /// <summary>Subscribes <paramref name="topic"/> unless it already is; true when it was new.</summary>
    internal bool AddOnce(ReadOnlySpan<byte> topic) => !Contains(topic) && Add(topic);

    /// <summary>Removes one count; true when the topic's count reached zero (it is gone).</summary>
    internal bool Remove(ReadOnlySpan<byte> topic)
    {
        Node? node = Find(topic);
        if (node is null || node.Count == 0)
        {
            return false;
        }

        node.Count--;
        if (node.Count > 0)
        {
            return false;
        }

        TopicCount--;
        TopicBytes -= topic.Length;
        Prune(topic);
        return true;
    }

    /// <summary>Removes the topic whatever its count; true when it was there.</summary>
    internal bool RemoveAll(ReadOnlySpan<byte> topic)
    {
        Node? node = Find(topic);
        if (node is null || node.Count == 0)
        {
            return false;
        }

        node.Count = 1;
        return Remove(topic);
    }

    internal bool Contains(ReadOnlySpan<byte> topic) => Find(topic) is { Count: > 0 };

    /// <summary>True when some subscribed topic is a prefix of <paramref name="message"/>.</summary>
    internal bool Matches(ReadOnlySpan<byte> message)
    {
        Node? node = _root;
        if (node.Count > 0)
        {
            return true;
        }

        for (int i = 0; i < message.Length; i++)
        {
            node = node.FindChild(message[i]);
            if (node is null)
            {
                return false;
            }

            if (node.Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every subscribed topic with its count (for re-sending after a reconnect).</summary>
    internal List<(byte[] Topic, int Count)> Snapshot()
    {
        var topics = new List<(byte[], int)>();
        var path = new List<byte>();
        Collect(_root, path, topics);
        return topics;
    }

    private static void Collect(Node node, List<byte> path, List<(byte[], int)> topics)
    {
        if (node.Count > 0)
        {
            topics.Add((path.ToArray(), node.Count));
        }

        for (int i = 0; i < node.ChildCount; i++)
        {
            path.Add(node.Keys[i]);
            Collect(node.Children[i], path, topics);
            path.RemoveAt(path.Count - 1);
        }
    }

    private Node? Find(ReadOnlySpan<byte> topic)
    {
        Node? node = _root;
        foreach (byte b in topic)
        {
            node = node.FindChild(b);
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>Drops the empty tail of the path to a removed topic, so churn does not grow the trie.</summary>
    private void Prune(ReadOnlySpan<byte> topic)
    {
        for (int depth = topic.Length; depth > 0; depth--)
        {
            Node parent = Find(topic[..(depth - 1)])!;
            Node child = parent.FindChild(topic[depth - 1])!;
            if (child.Count > 0 || child.ChildCount > 0)
            {
                return;
            }

            parent.RemoveChild(topic[depth - 1]);
        }
    }

    private sealed class Node
    {
        internal int Count;
        internal byte[] Keys = Array.Empty<byte>();
        internal Node[] Children = Array.Empty<Node>();
        internal int ChildCount;

        internal Node? FindChild(byte key)
        {
            int index = Keys.AsSpan(0, ChildCount).IndexOf(key);
            return index < 0 ? null : Children[index];
        }

        internal Node GetOrAddChild(byte key)
        {
            Node? existing = FindChild(key);
            if (existing is not null)
            {
                return existing;
            }

            if (ChildCount == Keys.Length)
            {
                int size = Math.Max(2, ChildCount * 2);
                Array.Resize(ref Keys, size);
                Array.Resize(ref Children, size);
            }

            var child = new Node();
            Keys[ChildCount] = key;
            Children[ChildCount] = child;
            ChildCount++;
            return child;
        }

        internal void RemoveChild(byte key)
        {
            int index = Keys.AsSpan(0, ChildCount).IndexOf(key);
            ChildCount--;
            Keys[index] = Keys[ChildCount];
            Children[index] = Children[ChildCount];
            Children[ChildCount] = null!;
        }
    }
}
