namespace KnowledgeDistillation.Onnx;

/// <summary>A named attribute of an ONNX node (an int, a float, a string, or a list of ints or floats).</summary>
public sealed class OnnxAttribute
{
    private const int TypeFloat = 1;
    private const int TypeInt = 2;
    private const int TypeString = 3;
    private const int TypeFloats = 6;
    private const int TypeInts = 7;

    private readonly int type;
    private readonly long intValue;
    private readonly float floatValue;
    private readonly string? stringValue;
    private readonly long[]? ints;
    private readonly float[]? floats;

    private OnnxAttribute(string name, int type, long intValue = 0, float floatValue = 0, string? stringValue = null, long[]? ints = null, float[]? floats = null)
    {
        Name = Guard.Name(name, nameof(name));
        this.type = type;
        this.intValue = intValue;
        this.floatValue = floatValue;
        this.stringValue = stringValue;
        this.ints = ints;
        this.floats = floats;
    }

    /// <summary>The attribute's name (e.g. <c>kernel_shape</c>).</summary>
    public string Name { get; }

    /// <summary>An integer attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The value.</param>
    public static OnnxAttribute Int(string name, long value) => new(name, TypeInt, intValue: value);

    /// <summary>A float attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The value.</param>
    public static OnnxAttribute Float(string name, double value) => new(name, TypeFloat, floatValue: (float)value);

    /// <summary>A string attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The value (written as UTF-8).</param>
    public static OnnxAttribute String(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(name, TypeString, stringValue: value);
    }

    /// <summary>A list-of-integers attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The values.</param>
    public static OnnxAttribute Ints(string name, params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(name, TypeInts, ints: values.ToArray());
    }

    /// <summary>A list-of-floats attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The values.</param>
    public static OnnxAttribute Floats(string name, params float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(name, TypeFloats, floats: values.ToArray());
    }

    /// <summary>Encodes the attribute as an <c>AttributeProto</c>.</summary>
    internal void Write(ProtoWriter w)
    {
        w.String(1, Name);
        switch (type)
        {
            case TypeFloat:
                w.Float(2, floatValue);
                break;
            case TypeInt:
                w.Varint(3, intValue);
                break;
            case TypeString:
                w.String(4, stringValue!);
                break;
            case TypeFloats:
                foreach (var f in floats!)
                {
                    w.Float(7, f);
                }

                break;
            default:
                foreach (var i in ints!)
                {
                    w.Varint(8, i);
                }

                break;
        }

        w.Varint(20, type);
    }
}
