using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace KnowledgeDistillation.DependencyInjection;

/// <summary>
/// Finds the keys under a configuration section that the binder would ignore for an options type: every key must name a
/// public settable property (case-insensitively, as the binder matches), and keys below a nested options object must
/// name its properties in turn. Collections (e.g. <c>Milestones:0</c>) accept any child key.
/// </summary>
internal static class ConfigurationKeyCheck
{
    /// <summary>The full paths of the unknown keys under <paramref name="section"/> for <paramref name="type"/>.</summary>
    public static IReadOnlyList<string> UnknownKeys(IConfiguration section, Type type)
    {
        var unknown = new List<string>();
        Walk(section, type, unknown);
        return unknown;
    }

    private static void Walk(IConfiguration section, Type type, List<string> unknown)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod?.IsPublic == true || IsNested(p.PropertyType)))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                unknown.Add(child.Path);
            }
            else if (IsNested(property.PropertyType))
            {
                Walk(child, property.PropertyType, unknown);
            }
        }
    }

    /// <summary>An options object whose own properties the binder fills (not a value, string, delegate or collection).</summary>
    private static bool IsNested(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(Delegate).IsAssignableFrom(type) && !typeof(IEnumerable).IsAssignableFrom(type);
}
