namespace KnowledgeDistillation.DependencyInjection;

/// <summary>What a registered run does with configuration keys under its section that no option reads (a misspelling, a removed option).</summary>
public enum UnknownConfigurationKeys
{
    /// <summary>Log a warning naming each key through <c>ILogger&lt;Distiller&gt;</c> when the options are validated (the default).</summary>
    Warn,

    /// <summary>Fail options validation (at start, with <c>ValidateOnStart</c>) with a message naming each key.</summary>
    Error,

    /// <summary>Say nothing.</summary>
    Ignore,
}
