using System.CommandLine;
using TextDistillation;

// SST-2: train a BERT-style teacher from scratch (or load a fine-tuned Hugging Face checkpoint), then students of half
// its depth: alone, soft-label KD, and internal-representation distillation (all layers, PID, SID; Aguilar et al. 2020).
// Prints accuracy mean +- std over seeds, parameters and inference latency per model; writes results.json.
var data = new Option<string>("--data") { Description = "Directory with train.tsv and dev.tsv (sentence<TAB>label).", DefaultValueFactory = _ => "../shared/data/text/sst2" };
var vocab = new Option<string?>("--vocab") { Description = "A BERT vocab.txt (default: build one from the training text)." };
var uncased = new Option<bool>("--cased") { Description = "The vocabulary is cased (no lower-casing or accent stripping)." };
var teacherCheckpoint = new Option<string?>("--teacher-checkpoint") { Description = "A Hugging Face BertForSequenceClassification directory (config.json + model.safetensors) to use as the teacher instead of training one; needs --vocab." };
var output = new Option<string>("--output") { Description = "Where the teacher and results.json go.", DefaultValueFactory = _ => "output" };
var trainLimit = new Option<int>("--train-limit") { Description = "Training sentences used (0 = all 67k).", DefaultValueFactory = _ => 12000 };
var devLimit = new Option<int>("--dev-limit") { Description = "Dev sentences used (0 = all).", DefaultValueFactory = _ => 0 };
var seeds = new Option<int>("--seeds") { Description = "Student seeds.", DefaultValueFactory = _ => 3 };
var teacherEpochs = new Option<int>("--teacher-epochs") { Description = "Teacher epochs.", DefaultValueFactory = _ => 4 };
var studentEpochs = new Option<int>("--student-epochs") { Description = "Student epochs of alone and KD, and of the soft-label stage of the internal recipes (their internal stages come on top: half as many epochs).", DefaultValueFactory = _ => 4 };
var methods = new Option<string[]>("--methods") { Description = $"Student methods (default all): {string.Join(", ", TextExperiment.Methods)}.", AllowMultipleArgumentsPerToken = true };
methods.AcceptOnlyFromAmong(TextExperiment.Methods);
var initFromTeacher = new Option<bool>("--init-from-teacher") { Description = "Initialise each student from the teacher (embeddings, head, and teacher layer g(j) for student layer j)." };
var threads = new Option<int>("--threads") { Description = "TorchSharp threads.", DefaultValueFactory = _ => 2 };

var root = new RootCommand("Internal-representation distillation of a BERT-style classifier on SST-2")
{
    data, vocab, uncased, teacherCheckpoint, output, trainLimit, devLimit, seeds, teacherEpochs, studentEpochs, methods, initFromTeacher, threads,
};

root.SetAction((parse, cancellationToken) =>
{
    var settings = new TextSettings
    {
        DataDirectory = parse.GetValue(data)!,
        Vocabulary = parse.GetValue(vocab),
        LowerCase = !parse.GetValue(uncased),
        TeacherCheckpoint = parse.GetValue(teacherCheckpoint),
        OutputDirectory = Path.GetFullPath(parse.GetValue(output)!),
        TrainLimit = parse.GetValue(trainLimit),
        DevLimit = parse.GetValue(devLimit),
        Seeds = Enumerable.Range(0, parse.GetValue(seeds)).ToArray(),
        TeacherEpochs = parse.GetValue(teacherEpochs),
        StudentEpochs = parse.GetValue(studentEpochs),
        Methods = parse.GetValue(methods) is { Length: > 0 } chosen ? chosen : TextExperiment.Methods,
        InitFromTeacher = parse.GetValue(initFromTeacher),
        Threads = parse.GetValue(threads),
    };
    TextExperiment.Run(settings, Console.Out, cancellationToken);
    return Task.FromResult(0);
});

return await root.Parse(args).InvokeAsync();
