#!/usr/bin/env python3
"""Small files and functions (ARCHITECTURE.md, "Conventions").

Every production source file (cli/, controller/, lib/) has at most 400 lines,
and every function defined at namespace scope at most 60, from its signature
to its closing brace. Definitions that are tables (an `=` before the first
parenthesis, as in `const Row kRows[] = {`) are not functions. Every shell
script under scripts/ and test/ (files ending in .sh and extension-less files
starting with a bash shebang: the entry points and their modules in scripts/lib/
and test/*/lib/) has at most 400 lines too.

    sizes_test.py SOURCE_DIR     checks the tree; exits 1 naming each offender
    sizes_test.py --self-test    checks that an offender is found
"""
import pathlib
import sys
import tempfile

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
FOLDERS = ("cli", "controller", "lib")
SCRIPT_FOLDERS = ("scripts", "test")
NOT_A_DEFINITION = ("//", "#", "namespace", "}", "using", "struct", "class", "enum",
                    "template", "constexpr", "static_assert", "extern")


def functions(lines):
    """(first line number, length, signature) of each top-level function."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line or line[0].isspace() or line.startswith(NOT_A_DEFINITION):
            i += 1
            continue
        # The signature may run over a few lines, up to the opening brace.
        j = i
        while j < len(lines) and j < i + 8 and not lines[j].rstrip().endswith(("{", ";")):
            j += 1
        signature = " ".join(lines[i:j + 1])
        if j >= len(lines) or not lines[j].rstrip().endswith("{") or "(" not in signature \
                or "=" in signature.split("(")[0]:
            i += 1
            continue
        k = j + 1
        while k < len(lines) and lines[k] != "}" and not lines[k].startswith("};"):
            k += 1
        yield i + 1, k - i + 1, line.strip()
        i = k + 1


def offenders(root):
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".cc", ".h"):
                continue
            lines = path.read_text(encoding="utf-8").split("\n")
            name = path.relative_to(root)
            if len(lines) - 1 > MAX_FILE_LINES:
                found.append(f"{name}: {len(lines) - 1} lines (at most {MAX_FILE_LINES})")
            for start, length, signature in functions(lines):
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{start}: a function of {length} lines "
                                 f"(at most {MAX_FUNCTION_LINES}): {signature[:70]}")
    found.extend(long_scripts(root))
    return found


def is_shell_script(path):
    if path.suffix == ".sh":
        return True
    if path.suffix or not path.is_file():
        return False
    with path.open("rb") as head:
        first = head.readline()
    return first.startswith(b"#!") and b"bash" in first


def long_scripts(root):
    found = []
    for name in SCRIPT_FOLDERS:
        folder = root / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not is_shell_script(path):
                continue
            lines = path.read_text(encoding="utf-8").split("\n")
            if len(lines) - 1 > MAX_FILE_LINES:
                found.append(f"{path.relative_to(root)}: {len(lines) - 1} lines "
                             f"(at most {MAX_FILE_LINES})")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as scratch:
        root = pathlib.Path(scratch)
        (root / "lib").mkdir()
        body = "\n".join(f"  x += {n};" for n in range(MAX_FUNCTION_LINES - 2))
        (root / "lib" / "ok.cc").write_text(f"int Fits(int x) {{\n{body}\n}}\n")
        (root / "lib" / "table.cc").write_text(
            "const int kRows[] = {\n" + ",\n".join("1" for _ in range(99)) + "\n};\n")
        long_body = body + "\n  x += 1;"
        (root / "lib" / "long.cc").write_text(
            f"int TooLong(int x,\n            int y) {{\n{long_body}\n}}\n")
        (root / "lib" / "big.h").write_text("// x\n" * (MAX_FILE_LINES + 1))
        (root / "scripts" / "lib").mkdir(parents=True)
        (root / "scripts" / "tool").write_text("#!/usr/bin/env bash\n" + "x\n" * MAX_FILE_LINES)
        (root / "scripts" / "lib" / "fits.sh").write_text("x\n" * MAX_FILE_LINES)
        (root / "scripts" / "notes").write_text("x\n" * (MAX_FILE_LINES + 1))
        (root / "test" / "suite" / "lib").mkdir(parents=True)
        (root / "test" / "suite" / "lib" / "long.sh").write_text("x\n" * (MAX_FILE_LINES + 1))
        (root / "test" / "suite" / "suite_test").write_text(
            "#!/usr/bin/env bash\n" + "x\n" * (MAX_FILE_LINES - 1))
        (root / "test" / "suite" / "golden.yaml").write_text("x\n" * (MAX_FILE_LINES + 1))
        found = offenders(root)
        expected = ["lib/big.h: 401 lines", "lib/long.cc:1: a function of 62 lines",
                    "scripts/tool: 401 lines", "test/suite/lib/long.sh: 401 lines"]
        missing = [e for e in expected if not any(f.startswith(e) for f in found)]
        if missing or len(found) != len(expected):
            print("self-test: expected", expected, "found", found)
            return 1
    print("self-test: ok")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = offenders(pathlib.Path(argv[1]))
    for line in found:
        print(line)
    print(f"{len(found)} file(s) or function(s) over the limits")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
