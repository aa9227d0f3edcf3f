#!/bin/bash
# The man pages against the programs: every option a program's --help shows appears in its
# page (.Fl macros) and every option of the page is in --help; alloractl per command
# (`alloractl COMMAND --help`, and `alloractl COMMAND SUB --help` for keys and tx); every
# configuration key of common/config.c (its key table) is in allora-worker.conf(5) with its
# default, and every key of the page is in the table.  The options are read from the
# programs at run time, so that drift in either direction fails here.
source "$(dirname "$0")/lib.sh"

# The checker prints "OK what", "NOK what" and "# diagnostics"; each OK/NOK is a TAP line.
results=$(cd "$T" && python3 - "$BUILD_DIR" "$REPO" <<'PYEOF' 2>&1
import os, re, subprocess, sys

build, repo = sys.argv[1], sys.argv[2]
env = {k: v for k, v in os.environ.items()
       if k not in ("ALLORA_WORKER_CONF", "MNEMONIC", "TOPIC_ID", "TIINGO_API_KEY")}
# --help (and its short form) is accepted by every command by contract (INTERFACES.md).
ALWAYS = {"-h", "--help"}

def ok(what):
    print("OK " + what)

def nok(what, diags=()):
    print("NOK " + what)
    for d in diags:
        print("# " + d)

def check(what, cond, diags=()):
    (ok if cond else nok)(what) if cond else nok(what, diags)

# Options in help text: -x or --long-name, not inside words, paths or numbers.
FLAG_RE = re.compile(r"(?<![\w.\-])(--?[A-Za-z][A-Za-z0-9-]*)")

def help_flags(text):
    return set(FLAG_RE.findall(text))

def run_help(args):
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, "exit status %d: %s" % (p.returncode, err[0] if err else "")
    if out.strip() == "":
        return None, "printed nothing on standard output"
    return out, None

# --- mdoc parsing -------------------------------------------------------------------------
MACRO_RE = re.compile(r"^[A-Z][a-z]{1,2}$")
DELIMS = set("|,.;:()[]?!")

def tokens(line):
    return [t[1:-1] if t.startswith('"') else t for t in re.findall(r'"[^"]*"|\S+', line)]

def unescape(s):
    return s.replace("\\&", "").replace("\\-", "-").replace("\\e", "\\")

def fl_args(toks, i):
    """Flags of the Fl at toks[i]: its arguments up to the next macro or delimiter."""
    out, j = [], i + 1
    while j < len(toks) and not MACRO_RE.match(toks[j]) and toks[j] not in DELIMS:
        a = unescape(toks[j])
        if a.startswith("-"):
            out.append("-" + a)
        elif len(a) == 1:
            out.append("-" + a)
        else:		# .Fl dfhV: several short options
            out.extend("-" + c for c in a)
        j += 1
    if j == i + 1:
        out.append("-")
    return out

def page_flags(path, commands_section=None):
    """Returns (global flags, {command: flags}, [command order]).  Inside the section named
    commands_section, each item of its top-level list is a command named by its first Cm."""
    glob, per, order = set(), {}, []
    section, depth, pending, cur = None, 0, False, None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.startswith("."):
                continue
            toks = tokens(line[1:])
            if not toks:
                continue
            if toks[0] == "Sh":
                section, depth, pending, cur = " ".join(toks[1:]), 0, False, None
                continue
            in_cmds = commands_section is not None and section == commands_section
            if toks[0] == "Bl":
                depth += 1
            elif toks[0] == "El":
                depth -= 1
                if in_cmds and depth == 0:
                    cur = None
            elif toks[0] == "It" and in_cmds and depth == 1:
                pending, cur = True, None
            for i, t in enumerate(toks):
                if in_cmds and pending and t == "Cm" and i + 1 < len(toks):
                    cur, pending = unescape(toks[i + 1]), False
                    if cur not in per:
                        per[cur] = set()
                        order.append(cur)
                if t == "Fl":
                    fl = fl_args(toks, i)
                    if in_cmds and cur is not None:
                        per[cur].update(fl)
                    else:
                        glob.update(fl)
    return glob, per, order

def compare(prog, page, helpset, pageset, extra_help=frozenset(), extra_page=frozenset(),
            need=True):
    if need and not helpset:
        nok("%s: --help shows options" % prog, ["no option found in its --help"])
    missing = sorted(helpset - pageset - set(extra_page) - ALWAYS)
    check("%s: every option of --help is in %s" % (prog, page), not missing,
          ["not in %s: %s" % (page, " ".join(missing))])
    if need and not pageset:
        nok("%s: %s documents options" % (prog, page), ["no .Fl found"])
    unknown = sorted(pageset - helpset - set(extra_help) - ALWAYS)
    check("%s: every option in %s is in --help" % (prog, page), not unknown,
          ["in %s but not in --help: %s" % (page, " ".join(unknown))])

man = os.path.join(repo, "man")

# --- allora-workerd and allora-devnet: one page, one --help -------------------------------
for prog, page in (("allora-workerd", "allora-workerd.8"), ("allora-devnet", "allora-devnet.1")):
    out, err = run_help([os.path.join(build, prog), "--help"])
    check("%s --help exits 0 and prints its usage" % prog, out is not None, [str(err)])
    if out is not None:
        glob, _, _ = page_flags(os.path.join(man, page))
        compare(prog, page, help_flags(out), glob)

# --- alloractl: global options, then each command -----------------------------------------
ctl = os.path.join(build, "alloractl")
out, err = run_help([ctl, "--help"])
check("alloractl --help exits 0 and prints its usage", out is not None, [str(err)])
out = out or ""
help_glob, help_cmds, subs, in_cmds = set(), [], {}, False
for l in out.splitlines():
    if l.strip().lower() == "commands:":
        in_cmds = True
        continue
    if in_cmds:
        if l.strip() == "":
            in_cmds = False
            continue
        m = re.match(r"^  ([a-z][a-z0-9-]*)(?:\s+([a-z]+(?:\|[a-z]+)+))?", l)
        if m:
            help_cmds.append(m.group(1))
            subs[m.group(1)] = m.group(2).split("|") if m.group(2) else []
        continue
    help_glob |= help_flags(l)
pglob, pcmds, porder = page_flags(os.path.join(man, "alloractl.8"), "COMMANDS")
compare("alloractl", "alloractl.8 (global options)", help_glob, pglob)
check("alloractl --help lists commands", len(help_cmds) > 0, ["no command under commands:"])
missing = [c for c in help_cmds if c not in pcmds]
check("alloractl: every command of --help is in alloractl.8", not missing,
      ["not in alloractl.8 COMMANDS: " + " ".join(missing)])
unknown = [c for c in porder if c not in help_cmds]
check("alloractl: every command in alloractl.8 is in alloractl --help", not unknown,
      ["in alloractl.8 but not in alloractl --help: " + " ".join(unknown)])
for cmd in porder + [c for c in help_cmds if c not in pcmds]:
    flags, errors = set(), []
    for args in [[cmd]] + [[cmd, s] for s in subs.get(cmd, [])]:
        o, e = run_help([ctl] + args + ["--help"])
        if o is None:
            errors.append("alloractl %s --help: %s" % (" ".join(args), e))
        else:
            flags |= help_flags(o)
    check("alloractl %s --help exits 0 and prints its usage" % cmd, not errors, errors)
    if errors:
        continue
    compare("alloractl " + cmd, "alloractl.8 (%s)" % cmd, flags, pcmds.get(cmd, set()),
            extra_help=help_glob, extra_page=pglob, need=False)

# --- configuration keys -------------------------------------------------------------------
KEY_RE = re.compile(r'\{\s*S_(GLOBAL|CHAIN|WALLET|TOPIC|CLUSTER)\s*,\s*"([^"]+)"\s*,\s*K_\w+\s*,'
                    r'\s*\w+\(\w+\)\s*,\s*(NULL|"((?:[^"\\]|\\.)*)")')
table = {}
with open(os.path.join(repo, "common", "config.c"), encoding="utf-8") as f:
    for line in f:
        m = KEY_RE.search(line)
        if m:
            table[(m.group(1).lower(), m.group(2))] = m.group(4)
check("common/config.c: the key table is found (global, chain, wallet, topic and cluster keys)",
      {s for s, _ in table} == {"global", "chain", "wallet", "topic", "cluster"} and len(table) >= 20,
      ["parsed %d keys" % len(table)])

doc, texts = {}, {}
section, depth, cur = None, 0, None
with open(os.path.join(man, "allora-worker.conf.5"), encoding="utf-8") as f:
    for raw in f:
        line = raw.rstrip("\n")
        toks = tokens(line[1:]) if line.startswith(".") else []
        if toks and toks[0] in ("Sh", "Ss"):
            m = re.search(r"\[(global|chain|wallet|topic|cluster)\b", line)
            section = m.group(1) if (m and toks[0] == "Ss") else None
            depth, cur = 0, None
            continue
        if section is None:
            continue
        if toks and toks[0] == "Bl":
            depth += 1
        elif toks and toks[0] == "El":
            depth -= 1
            if depth == 0:
                cur = None
        elif toks and toks[0] == "It" and depth == 1:
            cur = None
            if len(toks) >= 3 and toks[1] == "Ic":
                cur = (section, unescape(toks[2]))
                if cur in doc:
                    nok("allora-worker.conf.5: %s.%s is documented once" % cur)
                doc[cur] = True
                texts[cur] = ""
            continue
        if cur is not None:
            texts[cur] += " " + unescape(" ".join(toks[1:]) if toks else line)
for sect in ("global", "chain", "wallet", "topic", "cluster"):
    t = {k for s, k in table if s == sect}
    d = {k for s, k in doc if s == sect}
    check("config [%s]: every key of common/config.c is in allora-worker.conf.5" % sect,
          not (t - d), ["not documented: " + " ".join(sorted(t - d))])
    check("config [%s]: every key in allora-worker.conf.5 is in common/config.c" % sect,
          d and not (d - t), ["not in the key table: " + " ".join(sorted(d - t)) if d
                              else "no key documented"])
bad = []
for key, default in sorted(table.items()):
    if key in texts and default and ("Default" not in texts[key] or default not in texts[key]):
        bad.append("%s.%s (default %s)" % (key[0], key[1], default))
check("allora-worker.conf.5: every key with a default states it", not bad,
      ["default missing: " + ", ".join(bad)])
PYEOF
)
while IFS= read -r line; do
	case $line in
	"OK "*) ok "${line#OK }" ;;
	"NOK "*) not_ok "${line#NOK }" ;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done <<<"$results"
[ "$_n" -gt 0 ] || not_ok "the checker ran"
finish
