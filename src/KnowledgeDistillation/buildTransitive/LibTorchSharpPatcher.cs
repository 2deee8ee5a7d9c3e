// Makes TorchSharp's native libLibTorchSharp.so loadable on hosts whose libstdc++ predates GCC 13.
//
// TorchSharp 0.107 links libLibTorchSharp.so with GCC 13, which records a version requirement on
// GLIBCXX_3.4.32. The only symbol bound to that version is the anchor std::ios_base_library_init()
// (_ZSt21ios_base_library_initv), which no relocation uses. Marking that one requirement weak
// (VER_FLG_WEAK) lets the dynamic loader accept an older libstdc++ (Debian 12, Ubuntu 22.04).
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory as an inline task (see
// KnowledgeDistillation.targets; it compiles against netstandard reference assemblies, so only
// netstandard2.0 APIs are used), and by the test project with KNOWLEDGEDISTILLATION_PATCHER_ONLY
// defined, which leaves out the MSBuild task class.
#nullable enable

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace KnowledgeDistillation.Build
{
    /// <summary>What <see cref="LibTorchSharpPatcher"/> did, or would do, to a library.</summary>
    public enum LibTorchSharpPatchStatus
    {
        /// <summary>The GLIBCXX_3.4.32 requirement was marked weak.</summary>
        Patched,

        /// <summary>The requirement was already weak; nothing was written.</summary>
        AlreadyWeak,

        /// <summary>The library does not require GLIBCXX_3.4.32; nothing was written.</summary>
        NotRequired,

        /// <summary>Symbols other than the anchor use GLIBCXX_3.4.32, so patching would be unsafe; nothing was written.</summary>
        Refused,
    }

    /// <summary>The outcome of a patch attempt.</summary>
    public sealed class LibTorchSharpPatchResult
    {
        internal LibTorchSharpPatchResult(LibTorchSharpPatchStatus status, string message, long flagsOffset)
        {
            Status = status;
            Message = message;
            FlagsOffset = flagsOffset;
        }

        /// <summary>What was done.</summary>
        public LibTorchSharpPatchStatus Status { get; }

        /// <summary>A human-readable explanation of <see cref="Status"/>.</summary>
        public string Message { get; }

        /// <summary>File offset of the <c>vna_flags</c> field of the GLIBCXX_3.4.32 entry, or -1 when there is none.</summary>
        public long FlagsOffset { get; }
    }

    /// <summary>
    /// Marks the GLIBCXX_3.4.32 version requirement of libLibTorchSharp.so weak after verifying that only
    /// the unused anchor symbol <c>_ZSt21ios_base_library_initv</c> depends on it.
    /// </summary>
    public static class LibTorchSharpPatcher
    {
        /// <summary>The libstdc++ symbol version (GCC 13) that older hosts lack.</summary>
        public const string RequiredVersion = "GLIBCXX_3.4.32";

        /// <summary>The only symbol allowed to use <see cref="RequiredVersion"/>: std::ios_base_library_init().</summary>
        public const string AnchorSymbol = "_ZSt21ios_base_library_initv";

        /// <summary>VER_FLG_WEAK: a missing weak version is tolerated by the dynamic loader.</summary>
        public const ushort VerFlagWeak = 0x2;

        // Section types (sh_type) from the ELF and GNU symbol-versioning specifications.
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerneed = 0x6ffffffe; // .gnu.version_r: Elf64_Verneed/Elf64_Vernaux chains
        private const uint ShtGnuVersym = 0x6fffffff;  // .gnu.version: one 16-bit version index per .dynsym entry

        private const int Elf64HeaderSize = 64;
        private const int Elf64SectionHeaderSize = 64;
        private const int Elf64SymSize = 24;
        private const int VerneedSize = 16;
        private const int VernauxSize = 16;

        private static readonly string[] LibStdCxxDirectories =
        {
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib",
            "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu",
        };

        /// <summary>
        /// Patches the library at <paramref name="path"/> in place: the patched bytes go to a temporary file in
        /// the same folder, which then replaces <paramref name="path"/> atomically, so a hard link or symbolic
        /// link into the NuGet cache is replaced rather than written through. The file's timestamp is kept so
        /// that incremental copies still see it as up to date. Nothing is written unless the status is
        /// <see cref="LibTorchSharpPatchStatus.Patched"/>.
        /// </summary>
        /// <param name="path">The libLibTorchSharp.so copy to patch (never a file in the NuGet cache).</param>
        /// <returns>What was done.</returns>
        /// <exception cref="InvalidDataException">The file is not a well-formed little-endian ELF64 shared library.</exception>
        public static LibTorchSharpPatchResult PatchFile(string path)
        {
            byte[] image = File.ReadAllBytes(path);
            LibTorchSharpPatchResult result = Patch(image);
            if (result.Status != LibTorchSharpPatchStatus.Patched)
            {
                return result;
            }

            string fullPath = Path.GetFullPath(path);
            string temp = Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                // Copy first so the temporary file keeps the original's permissions, then rewrite the 2-byte field.
                File.Copy(fullPath, temp);
                using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write, FileShare.None))
                {
                    stream.Position = result.FlagsOffset;
                    stream.Write(image, (int)result.FlagsOffset, 2);
                }

                File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(fullPath));
                File.Replace(temp, fullPath, null);
            }
            catch
            {
                try
                {
                    File.Delete(temp);
                }
                catch (IOException)
                {
                }

                throw;
            }

            return result;
        }

        /// <summary>Patches an in-memory image of libLibTorchSharp.so; <paramref name="image"/> changes only when the status is <see cref="LibTorchSharpPatchStatus.Patched"/>.</summary>
        /// <param name="image">The bytes of the library.</param>
        /// <returns>What was done.</returns>
        /// <exception cref="InvalidDataException">The image is not a well-formed little-endian ELF64 shared library.</exception>
        public static LibTorchSharpPatchResult Patch(byte[] image)
        {
            if (image is null)
            {
                throw new ArgumentNullException(nameof(image));
            }

            var elf = new ElfImage(image);
            Section[] sections = elf.ReadSectionHeaders();
            int verneedIndex = FindSection(sections, ShtGnuVerneed);
            if (verneedIndex < 0)
            {
                return new LibTorchSharpPatchResult(LibTorchSharpPatchStatus.NotRequired, "The library has no .gnu.version_r section, so it requires no " + RequiredVersion + ".", -1);
            }

            Section verneed = sections[verneedIndex];
            Section dynstr = elf.Linked(sections, verneed, ".gnu.version_r");
            long flagsOffset = FindVernauxFlags(elf, verneed, dynstr);
            if (flagsOffset < 0)
            {
                return new LibTorchSharpPatchResult(LibTorchSharpPatchStatus.NotRequired, "The library does not require " + RequiredVersion + ".", -1);
            }

            ushort flags = elf.U16((ulong)flagsOffset);
            if ((flags & VerFlagWeak) != 0)
            {
                return new LibTorchSharpPatchResult(LibTorchSharpPatchStatus.AlreadyWeak, "The " + RequiredVersion + " requirement is already weak.", flagsOffset);
            }

            // vna_other (right after vna_flags) is the version index that .gnu.version assigns to symbols of this version.
            ushort versionIndex = elf.U16((ulong)flagsOffset + 2);
            List<string> others = FindOtherSymbolsUsingVersion(elf, sections, versionIndex);
            if (others.Count > 0)
            {
                string shown = string.Join(", ", others.GetRange(0, Math.Min(5, others.Count)).ToArray()) + (others.Count > 5 ? ", ..." : string.Empty);
                return new LibTorchSharpPatchResult(
                    LibTorchSharpPatchStatus.Refused,
                    "Not patched: " + others.Count + " symbol(s) besides " + AnchorSymbol + " need " + RequiredVersion + " (" + shown
                    + "), so marking it weak could defer a load failure to a crash. Install a libstdc++ from GCC 13 or newer instead.",
                    flagsOffset);
            }

            flags |= VerFlagWeak;
            image[flagsOffset] = (byte)flags;
            image[flagsOffset + 1] = (byte)(flags >> 8);
            return new LibTorchSharpPatchResult(LibTorchSharpPatchStatus.Patched, "Marked the " + RequiredVersion + " requirement weak (only " + AnchorSymbol + " uses it).", flagsOffset);
        }

        /// <summary>
        /// Finds the libstdc++.so.6 the dynamic loader would use: the first matching <c>ldconfig -p</c> entry for the
        /// host architecture, else the first one in the standard library folders.
        /// </summary>
        /// <returns>The library path, or <see langword="null"/> when none was found.</returns>
        public static string? FindHostLibStdCxx()
        {
            string? cached = FindInLdCache();
            if (cached != null)
            {
                return cached;
            }

            foreach (string directory in LibStdCxxDirectories)
            {
                string candidate = Path.Combine(directory, "libstdc++.so.6");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        /// <summary>Whether the host's libstdc++ defines <see cref="RequiredVersion"/>; <see langword="false"/> when no libstdc++ was found.</summary>
        /// <param name="libraryPath">The libstdc++ that was inspected, or <see langword="null"/>.</param>
        /// <returns><see langword="true"/> when no patch is needed on this host.</returns>
        public static bool HostProvidesRequiredVersion(out string? libraryPath)
        {
            libraryPath = FindHostLibStdCxx();
            return libraryPath != null && DefinesVersion(libraryPath, RequiredVersion);
        }

        /// <summary>Whether a shared library defines a symbol version, judged by its NUL-delimited name in the file.</summary>
        /// <param name="libraryPath">The library to scan.</param>
        /// <param name="version">A version name such as GLIBCXX_3.4.32.</param>
        /// <returns><see langword="true"/> when the name occurs as a complete string.</returns>
        public static bool DefinesVersion(string libraryPath, string version)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            byte[] needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
            for (int i = 0; i <= bytes.Length - needle.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && bytes[i + j] == needle[j])
                {
                    j++;
                }

                if (j == needle.Length)
                {
                    return true;
                }
            }

            return false;
        }

        private static string? FindInLdCache()
        {
            // Lines look like "\tlibstdc++.so.6 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libstdc++.so.6".
            string archTag = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "AArch64" : "x86-64";
            foreach (string ldconfig in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig" })
            {
                if (!File.Exists(ldconfig))
                {
                    continue;
                }

                string output;
                try
                {
                    var start = new ProcessStartInfo(ldconfig, "-p") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, CreateNoWindow = true };
                    using (Process process = Process.Start(start)!)
                    {
                        process.ErrorDataReceived += (_, _) => { };
                        process.BeginErrorReadLine();
                        output = process.StandardOutput.ReadToEnd();
                        if (!process.WaitForExit(5000) || process.ExitCode != 0)
                        {
                            continue;
                        }
                    }
                }
                catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception || e is IOException)
                {
                    continue;
                }

                foreach (string line in output.Split('\n'))
                {
                    string trimmed = line.Trim();
                    int arrow = trimmed.IndexOf("=>", StringComparison.Ordinal);
                    if (arrow > 0 && trimmed.StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && trimmed.IndexOf(archTag, 0, arrow, StringComparison.Ordinal) >= 0)
                    {
                        string candidate = trimmed.Substring(arrow + 2).Trim();
                        if (File.Exists(candidate))
                        {
                            return candidate;
                        }
                    }
                }
            }

            return null;
        }

        private static int FindSection(Section[] sections, uint type)
        {
            for (int i = 0; i < sections.Length; i++)
            {
                if (sections[i].Type == type)
                {
                    return i;
                }
            }

            return -1;
        }

        // .gnu.version_r holds a chain of Elf64_Verneed records, one per needed library:
        //   vn_version u16 @0, vn_cnt u16 @2, vn_file u32 @4, vn_aux u32 @8, vn_next u32 @12
        // Each has vn_cnt Elf64_Vernaux records, starting vn_aux bytes after the Verneed:
        //   vna_hash u32 @0, vna_flags u16 @4, vna_other u16 @6, vna_name u32 @8, vna_next u32 @12
        // vn_next/vna_next are byte offsets to the next record (0 ends the chain); names index the linked string table.
        private static long FindVernauxFlags(ElfImage elf, Section verneed, Section dynstr)
        {
            elf.Require(verneed.Offset, verneed.Size, ".gnu.version_r section");
            ulong end = verneed.Offset + verneed.Size;
            ulong needOffset = verneed.Offset;
            for (uint need = 0; ; need++)
            {
                Within(needOffset, VerneedSize, end, "Elf64_Verneed record");
                ushort auxCount = elf.U16(needOffset + 2);
                ulong auxOffset = needOffset + elf.U32(needOffset + 8);
                for (int aux = 0; aux < auxCount; aux++)
                {
                    Within(auxOffset, VernauxSize, end, "Elf64_Vernaux record");
                    if (elf.CString(dynstr, elf.U32(auxOffset + 8)) == RequiredVersion)
                    {
                        return (long)auxOffset + 4;
                    }

                    uint nextAux = elf.U32(auxOffset + 12);
                    if (nextAux == 0)
                    {
                        break;
                    }

                    auxOffset += nextAux;
                }

                uint nextNeed = elf.U32(needOffset + 12);
                // sh_info holds the number of Verneed records; offsets only grow, so the walk always ends.
                if (nextNeed == 0 || (verneed.Info != 0 && need + 1 >= verneed.Info))
                {
                    return -1;
                }

                needOffset += nextNeed;
            }
        }

        // .dynsym is an array of Elf64_Sym (st_name u32 @0, ...; 24 bytes each). .gnu.version is a parallel array of
        // u16 version indexes (bit 15 marks a hidden symbol). Returns the names of symbols other than the anchor
        // whose index equals versionIndex.
        private static List<string> FindOtherSymbolsUsingVersion(ElfImage elf, Section[] sections, ushort versionIndex)
        {
            int versymIndex = FindSection(sections, ShtGnuVersym);
            if (versymIndex < 0)
            {
                throw new InvalidDataException("The library has a .gnu.version_r section but no .gnu.version section, so its symbol versions cannot be verified.");
            }

            Section versym = sections[versymIndex];
            Section dynsym = elf.Linked(sections, versym, ".gnu.version");
            if (dynsym.Type != ShtDynsym || dynsym.EntrySize != Elf64SymSize)
            {
                throw new InvalidDataException("The .gnu.version section is not linked to an ELF64 .dynsym section.");
            }

            Section symbolNames = elf.Linked(sections, dynsym, ".dynsym");
            elf.Require(versym.Offset, versym.Size, ".gnu.version section");
            elf.Require(dynsym.Offset, dynsym.Size, ".dynsym section");
            ulong count = dynsym.Size / Elf64SymSize;
            if (versym.Size != count * 2)
            {
                throw new InvalidDataException("The .gnu.version section has " + (versym.Size / 2) + " entries but .dynsym has " + count + ".");
            }

            var others = new List<string>();
            for (ulong i = 0; i < count; i++)
            {
                if ((elf.U16(versym.Offset + (i * 2)) & 0x7fff) != versionIndex)
                {
                    continue;
                }

                string name = elf.CString(symbolNames, elf.U32(dynsym.Offset + (i * Elf64SymSize)));
                if (name != AnchorSymbol)
                {
                    others.Add(name.Length > 0 ? name : "#" + i);
                }
            }

            return others;
        }

        private static void Within(ulong offset, ulong length, ulong end, string what)
        {
            if (offset > end || length > end - offset)
            {
                throw new InvalidDataException("A " + what + " at offset " + offset + " runs past the end of its section (" + end + ").");
            }
        }

        /// <summary>The fields of an Elf64_Shdr that the patcher needs.</summary>
        private struct Section
        {
            public uint Type;
            public ulong Offset;
            public ulong Size;
            public uint Link;
            public uint Info;
            public ulong EntrySize;
        }

        /// <summary>A little-endian ELF64 image with bounds-checked reads.</summary>
        private sealed class ElfImage
        {
            private readonly byte[] _bytes;

            public ElfImage(byte[] bytes)
            {
                _bytes = bytes;

                // Elf64_Ehdr.e_ident: 0x7f 'E' 'L' 'F', EI_CLASS (2 = 64-bit), EI_DATA (1 = little-endian).
                if (bytes.Length < 16 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                {
                    throw new InvalidDataException("Not an ELF file (missing the \\x7fELF magic).");
                }

                if (bytes[4] != 2)
                {
                    throw new InvalidDataException("Not a 64-bit ELF file (EI_CLASS is " + bytes[4] + ", expected 2).");
                }

                if (bytes[5] != 1)
                {
                    throw new InvalidDataException("Not a little-endian ELF file (EI_DATA is " + bytes[5] + ", expected 1).");
                }

                Require(0, Elf64HeaderSize, "ELF64 header");
            }

            // Elf64_Ehdr: e_shoff u64 @0x28, e_shentsize u16 @0x3A, e_shnum u16 @0x3C.
            // Elf64_Shdr: sh_type u32 @4, sh_offset u64 @24, sh_size u64 @32, sh_link u32 @40, sh_info u32 @44, sh_entsize u64 @56.
            public Section[] ReadSectionHeaders()
            {
                ulong offset = U64(0x28);
                ushort entrySize = U16(0x3A);
                ushort count = U16(0x3C);
                if (offset == 0 || count == 0)
                {
                    throw new InvalidDataException("The ELF file has no section headers.");
                }

                if (entrySize < Elf64SectionHeaderSize)
                {
                    throw new InvalidDataException("The ELF section header size is " + entrySize + ", expected at least " + Elf64SectionHeaderSize + ".");
                }

                Require(offset, (ulong)entrySize * count, "section header table");
                var sections = new Section[count];
                for (int i = 0; i < count; i++)
                {
                    ulong header = offset + ((ulong)i * entrySize);
                    sections[i] = new Section
                    {
                        Type = U32(header + 4),
                        Offset = U64(header + 24),
                        Size = U64(header + 32),
                        Link = U32(header + 40),
                        Info = U32(header + 44),
                        EntrySize = U64(header + 56),
                    };
                }

                return sections;
            }

            /// <summary>The section named by <paramref name="section"/>'s sh_link.</summary>
            public Section Linked(Section[] sections, Section section, string what)
            {
                if (section.Link == 0 || section.Link >= sections.Length)
                {
                    throw new InvalidDataException("The " + what + " section links to section " + section.Link + ", which does not exist.");
                }

                return sections[section.Link];
            }

            public void Require(ulong offset, ulong length, string what)
            {
                ulong size = (ulong)_bytes.Length;
                if (offset > size || length > size - offset)
                {
                    throw new InvalidDataException("The " + what + " (offset " + offset + ", " + length + " bytes) lies outside the " + size + "-byte file.");
                }
            }

            /// <summary>The NUL-terminated string at <paramref name="index"/> in a string table section.</summary>
            public string CString(Section table, uint index)
            {
                Require(table.Offset, table.Size, "string table");
                if (index >= table.Size)
                {
                    throw new InvalidDataException("String index " + index + " is outside its " + table.Size + "-byte string table.");
                }

                int start = (int)(table.Offset + index);
                int end = (int)(table.Offset + table.Size);
                int nul = Array.IndexOf(_bytes, (byte)0, start, end - start);
                if (nul < 0)
                {
                    throw new InvalidDataException("The string at index " + index + " is not NUL-terminated within its string table.");
                }

                return Encoding.UTF8.GetString(_bytes, start, nul - start);
            }

            public ushort U16(ulong offset) => (ushort)Read(offset, 2);

            public uint U32(ulong offset) => (uint)Read(offset, 4);

            public ulong U64(ulong offset) => Read(offset, 8);

            private ulong Read(ulong offset, int length)
            {
                Require(offset, (ulong)length, "field");
                ulong value = 0;
                for (int i = length - 1; i >= 0; i--)
                {
                    value = (value << 8) | _bytes[(int)offset + i];
                }

                return value;
            }
        }
    }

#if !KNOWLEDGEDISTILLATION_PATCHER_ONLY
    /// <summary>
    /// MSBuild task: patches libLibTorchSharp.so in build or publish output folders (root, runtimes/linux-x64/native,
    /// runtimes/linux-arm64/native) when the host's libstdc++ lacks GLIBCXX_3.4.32 (Mode <c>auto</c>), always
    /// (<c>always</c>) or never (<c>never</c>).
    /// </summary>
    public sealed class PatchLibTorchSharpTask : Microsoft.Build.Utilities.Task
    {
        private static readonly string[] RelativeLocations =
        {
            "libLibTorchSharp.so",
            "runtimes/linux-x64/native/libLibTorchSharp.so",
            "runtimes/linux-arm64/native/libLibTorchSharp.so",
        };

        /// <summary>Output folders to search (for example $(OutDir) or $(PublishDir)).</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Directories { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary><c>auto</c> (default), <c>always</c> or <c>never</c>.</summary>
        public string Mode { get; set; } = "auto";

        /// <summary>Runs the task.</summary>
        /// <returns><see langword="true"/> unless the mode is invalid.</returns>
        public override bool Execute()
        {
            const Microsoft.Build.Framework.MessageImportance Low = Microsoft.Build.Framework.MessageImportance.Low;
            string mode = string.IsNullOrWhiteSpace(Mode) ? "auto" : Mode.Trim().ToLowerInvariant();
            if (mode == "never")
            {
                return true;
            }

            if (mode != "auto" && mode != "always")
            {
                Log.LogError("KnowledgeDistillationPatchLibTorchSharp must be 'auto', 'always' or 'never', not '{0}'.", Mode);
                return false;
            }

            var libraries = new List<string>();
            foreach (Microsoft.Build.Framework.ITaskItem directory in Directories)
            {
                foreach (string relative in RelativeLocations)
                {
                    string candidate = Path.GetFullPath(Path.Combine(directory.GetMetadata("FullPath"), relative));
                    if (File.Exists(candidate) && !libraries.Contains(candidate))
                    {
                        libraries.Add(candidate);
                    }
                }
            }

            if (libraries.Count == 0)
            {
                Log.LogMessage(Low, "KnowledgeDistillation: no libLibTorchSharp.so in the output; nothing to patch.");
                return true;
            }

            if (mode == "auto" && LibTorchSharpPatcher.HostProvidesRequiredVersion(out string? libStdCxx))
            {
                Log.LogMessage(Low, "KnowledgeDistillation: {0} provides {1}; libLibTorchSharp.so left unchanged.", libStdCxx, LibTorchSharpPatcher.RequiredVersion);
                return true;
            }

            foreach (string library in libraries)
            {
                try
                {
                    LibTorchSharpPatchResult result = LibTorchSharpPatcher.PatchFile(library);
                    switch (result.Status)
                    {
                        case LibTorchSharpPatchStatus.Patched:
                            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "KnowledgeDistillation: patched {0} so it loads without {1} in the host libstdc++. {2}", library, LibTorchSharpPatcher.RequiredVersion, result.Message);
                            break;
                        case LibTorchSharpPatchStatus.Refused:
                            Log.LogWarning(null, "KD1001", null, library, 0, 0, 0, 0, "KnowledgeDistillation: {0}", result.Message);
                            break;
                        default:
                            Log.LogMessage(Low, "KnowledgeDistillation: {0}: {1}", library, result.Message);
                            break;
                    }
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
                {
                    Log.LogWarning(null, "KD1002", null, library, 0, 0, 0, 0, "KnowledgeDistillation: could not patch libLibTorchSharp.so: {0}", e.Message);
                }
            }

            return true;
        }
    }
#endif
}
