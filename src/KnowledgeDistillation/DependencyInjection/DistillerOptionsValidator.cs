using KnowledgeDistillation.Engine;
using Microsoft.Extensions.Options;

namespace KnowledgeDistillation.DependencyInjection;

/// <summary>Validates bound <see cref="DistillerOptions"/>, naming the configuration key of a bad value (e.g. <c>Distillation:Optimizer:LearningRate</c>).</summary>
internal sealed class DistillerOptionsValidator(string sectionPath) : IValidateOptions<DistillerOptions>
{
    public ValidateOptionsResult Validate(string? name, DistillerOptions options)
    {
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
            return ValidateOptionsResult.Fail($"Invalid configuration value at '{path}': {message}");
        }
    }
}
