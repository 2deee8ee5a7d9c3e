using Xunit;

namespace KnowledgeDistillation.Tests.Data;

/// <summary>
/// A fact that is reported as skipped (with the reason) when a file or directory it needs is absent.
/// xunit 2 has no dynamic skip, so the check runs when the attribute is constructed during discovery.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FactRequiresPathAttribute : FactAttribute
{
    public FactRequiresPathAttribute(string path, string? hint = null)
    {
        RequiredPath = path;
        if (!Directory.Exists(path) && !File.Exists(path))
        {
            Skip = $"Skipped: needs '{path}', which does not exist on this machine." + (hint is null ? string.Empty : " " + hint);
        }
    }

    public string RequiredPath { get; }
}
