using FluentAssertions;
using KnowledgeDistillation.Graph;
using Xunit;

namespace KnowledgeDistillation.Graph.Tests;

public sealed class GraphModuleTests
{
    [Fact]
    public void Graph_module_builds_against_the_core_library()
    {
        GraphDistillation.CoreVersion.Should().Be(typeof(IDistillationLoss).Assembly.GetName().Version);
    }
}
