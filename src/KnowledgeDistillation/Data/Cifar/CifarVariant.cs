namespace KnowledgeDistillation.Data;

/// <summary>Which CIFAR dataset a binary file holds; the two differ in their record layout.</summary>
public enum CifarVariant
{
    /// <summary>CIFAR-10: each record is 1 label byte (0..9) and 3072 pixel bytes.</summary>
    Cifar10,

    /// <summary>CIFAR-100: each record is a coarse label byte (0..19), a fine label byte (0..99) and 3072 pixel bytes.</summary>
    Cifar100,
}
