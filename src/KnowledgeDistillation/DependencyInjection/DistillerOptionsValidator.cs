using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KnowledgeDistillation.DependencyInjection;

/// <summary>
/// Validates the bound <see cref="DistillerOptions"/> of one run (those of options name <paramref name="optionsName"/>),
/// naming the run and the configuration key of a bad value (e.g. <c>Teacher:Optimizer:LearningRate</c>, or
/// <c>Distillation:Device</c> for a device that is not available), and reports keys under the section that no option
/// reads (<see cref="UnknownConfigurationKeys"/>).
/// </summary>
/// <param name="optionsName">The options name the run's options are registered under.</param>
/// <param name="runName">The run's name, or <c>null</c> for the default run.</param>
/// <param name="section">The configuration section the options are bound from, or <c>null</c>.</param>
/// <param name="unknownKeys">What to do with keys no option reads.</param>
/// <param name="logger">Receives the unknown-key warning.</param>
internal sealed class DistillerOptionsValidator(
    string optionsName, string? runName, IConfiguration? section, UnknownConfigurationKeys unknownKeys, ILogger logger) : IValidateOptions<DistillerOptions>
{
    private readonly string _sectionPath = (section as IConfigurationSection)?.Path ?? string.Empty;

    public ValidateOptionsResult Validate(string? name, DistillerOptions options)
    {
        if ((name ?? Options.DefaultName) != optionsName)
        {
            return ValidateOptionsResult.Skip;
        }

        var run = runName is null ? string.Empty : $" of distillation run '{runName}'";
        var unknown = section is null || unknownKeys == UnknownConfigurationKeys.Ignore
            ? Array.Empty<string>()
            : ConfigurationKeyCheck.UnknownKeys(section, typeof(DistillerOptions));
        if (unknown.Count > 0 && unknownKeys == UnknownConfigurationKeys.Error)
        {
            return ValidateOptionsResult.Fail(
                $"Unknown configuration key(s){run}: {string.Join(", ", unknown.Select(k => $"'{k}'"))}. No DistillerOptions setting reads them; " +
                "fix the spelling or remove them (the known keys are DistillerOptions' property names).");
        }

        if (unknown.Count > 0)
        {
            logger.LogWarning(
                "Unknown configuration key(s){Run} ignored: {Keys}. No DistillerOptions setting reads them; fix the spelling or remove them",
                run, string.Join(", ", unknown));
        }

        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            var key = (e.ParamName ?? "?").Replace('.', ':');
            var path = string.IsNullOrEmpty(_sectionPath) ? key : $"{_sectionPath}:{key}";
            var message = e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
            return ValidateOptionsResult.Fail($"Invalid configuration value{run} at '{path}': {message}");
        }
    }
}
