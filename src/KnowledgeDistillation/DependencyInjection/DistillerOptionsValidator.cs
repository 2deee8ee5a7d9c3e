using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Options;

namespace KnowledgeDistillation.DependencyInjection;

/// <summary>
/// Validates the bound <see cref="DistillerOptions"/> of one run (those of options name <paramref name="optionsName"/>),
/// naming the run and the configuration key of a bad value (e.g. <c>Teacher:Optimizer:LearningRate</c>).
/// </summary>
/// <param name="optionsName">The options name the run's options are registered under.</param>
/// <param name="runName">The run's name, or <c>null</c> for the default run.</param>
/// <param name="sectionPath">The configuration section the options are bound from, or empty.</param>
internal sealed class DistillerOptionsValidator(string optionsName, string? runName, string sectionPath) : IValidateOptions<DistillerOptions>
{
    public ValidateOptionsResult Validate(string? name, DistillerOptions options)
    {
        if ((name ?? Options.DefaultName) != optionsName)
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            var key = (e.ParamName ?? "?").Replace('.', ':');
            var path = string.IsNullOrEmpty(sectionPath) ? key : $"{sectionPath}:{key}";
            var message = e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
            var run = runName is null ? string.Empty : $" of distillation run '{runName}'";
            return ValidateOptionsResult.Fail($"Invalid configuration value{run} at '{path}': {message}");
        }
    }
}
