#!/usr/bin/env python3
"""Runs deploy/Dockerfile's own instructions without a Docker daemon.

The CI machine has no Docker engine, so this interprets the Dockerfile the way
`docker build` and `docker run` would, with Linux namespaces instead of a
daemon (docs/decisions.md, "The container recipe is run without a daemon"):

- the build context is made from the repository with .dockerignore's rules
  (Docker's matcher: `**`, `*`, `?`, `!` exceptions, parent directories), and
  must not hold target/ or .git, and must stay small;
- `FROM debian:bookworm-slim` is a minbase debootstrap of bookworm (cached
  under /var/cache), with the image's apt sources and no package lists;
- `FROM rust:1-bookworm` is this machine's Rust toolchain (same Debian, same
  glibc): the stage's RUN lines run here, in the stage's own directory, on the
  emulated context (so a context that lacks a file the build needs fails);
- every RUN of a Debian stage runs in a chroot of the stage's root, in its own
  mount and PID namespaces, as the stage's USER, with its ENV and WORKDIR;
- COPY --from takes the file from the named stage's root, COPY from the
  context; USER, WORKDIR, ENV, VOLUME, EXPOSE, ENTRYPOINT and CMD are applied
  as `docker run` applies them.

Then the last stage is started as `docker run` would: its ENTRYPOINT as PID 1
of new PID, mount and network namespaces, as its USER, the configuration
bind-mounted read-only at /etc/gate-server, a fresh volume at each VOLUME
(seeded from the image, as Docker seeds a named volume), a secret passed as
an environment variable. It must answer ALIVE on every EXPOSEd port at a
non-loopback address (what `-p` publishes), run unprivileged, accept a
signed delivery whose secret comes from the environment, keep its spool and
its notifications in the volume, and exit 0 on SIGTERM (`docker stop`).

Any instruction, flag or form this script does not interpret is a failure,
so the Dockerfile cannot drift away from what is checked.

Usage (root): python3 scripts/container-check.py [--keep]
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("GATE_CONTAINER_CACHE", "/var/cache/gate-container-check")
# The recipe and the context of `docker build -f deploy/Dockerfile -t
# gate-server .` from the repository root (docs/operations.md); options
# replace them (scripts/container-check-mutants.sh).
DOCKERFILE = os.path.join(REPO, "deploy", "Dockerfile")
CONTEXT = REPO
CONTEXT_LIMIT_BYTES = 50 * 1024 * 1024
MIRROR = "http://deb.debian.org/debian"
# Docker's default PATH for a container without ENV PATH.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The debian:bookworm-slim image's apt sources (deb822), so that a RUN line
# sees the same suites as in the real image, security updates included.
DEBIAN_SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


class CheckFailed(Exception):
    pass


def fail(message):
    raise CheckFailed(message)


def say(message):
    print(f"container-check: {message}", flush=True)


# --- .dockerignore, as Docker's matcher reads it -------------------------------


def read_dockerignore(path):
    """Patterns as (regex, exclusion) in file order (moby's dockerignore.ReadAll)."""
    patterns = []
    if not os.path.exists(path):
        return patterns
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            pattern = line.strip()
            if not pattern:
                continue
            exclusion = pattern.startswith("!")
            if exclusion:
                pattern = pattern[1:].strip()
            if pattern:
                pattern = os.path.normpath(pattern)
                if len(pattern) > 1 and pattern.startswith("/"):
                    pattern = pattern.lstrip("/")
            patterns.append((re.compile(ignore_regex(pattern)), exclusion))
    return patterns


def ignore_regex(pattern):
    """Docker's translation (moby/patternmatcher): `**` spans directories,
    `*` and `?` do not, `\\` escapes, brackets are classes."""
    out = "^"
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 2
                if pattern[i : i + 1] == "/":
                    i += 1
                out += ".*" if i >= len(pattern) else "(.*/)?"
                continue
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\":
            i += 1
            if i < len(pattern):
                out += re.escape(pattern[i])
        elif ch in "[]":
            out += ch
        elif ch == "-" or ch == "^":
            out += ch
        else:
            out += re.escape(ch)
        i += 1
    return out + "$"


def ignored(relpath, patterns):
    """MatchesOrParentMatches: a path is out when the last pattern matching it
    or one of its parent directories is not an exception."""
    parts = relpath.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    matched = False
    for regex, exclusion in patterns:
        if regex.match(relpath) or any(regex.match(c) for c in candidates[:-1]):
            matched = not exclusion
    return matched


def ignore_patterns():
    """BuildKit reads <Dockerfile>.dockerignore when it exists, else the
    context's .dockerignore."""
    beside = DOCKERFILE + ".dockerignore"
    if os.path.exists(beside):
        return read_dockerignore(beside)
    return read_dockerignore(os.path.join(CONTEXT, ".dockerignore"))


def build_context(root):
    """The files `docker build` would send: (relative paths, total bytes)."""
    patterns = ignore_patterns()
    files, total = [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        # Docker walks into an excluded directory only when an exception
        # pattern could re-include something below it.
        has_exceptions = any(exclusion for _, exclusion in patterns)
        keep = []
        for d in dirnames:
            rel = rel_dir + d
            if os.path.islink(os.path.join(dirpath, d)):
                if not ignored(rel, patterns):
                    files.append(rel)
            elif has_exceptions or not ignored(rel, patterns):
                keep.append(d)
        dirnames[:] = sorted(keep)
        for name in sorted(filenames):
            rel = rel_dir + name
            if not ignored(rel, patterns):
                files.append(rel)
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return files, total


def check_context():
    files, total = build_context(CONTEXT)
    # Cargo's output at any depth (workspace members, examples, fuzz/), and
    # the repository's history.
    checks = {
        "target/": lambda f: "/target/" in "/" + f,
        ".git": lambda f: f == ".git" or f.startswith(".git/"),
    }
    for what, holds in checks.items():
        inside = [f for f in files if holds(f)]
        if inside:
            fail(f"the build context holds {what}: {inside[0]} (and {len(inside) - 1} more)")
    if total > CONTEXT_LIMIT_BYTES:
        fail(f"the build context is {total} bytes, over {CONTEXT_LIMIT_BYTES}: is build output in it?")
    for needed in ("Cargo.toml", "Cargo.lock", "gate-server/Cargo.toml"):
        if needed not in files:
            fail(f"the build context lacks {needed}")
    say(f"build context: {len(files)} files, {total / 1024 / 1024:.1f} MiB, no target/ nor .git")
    return files


# --- the Dockerfile ------------------------------------------------------------


def parse_dockerfile(path):
    """(line number, INSTRUCTION, arguments) with continuations joined."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for line in lines:
        if not line.startswith("#"):
            break
        if re.match(r"#\s*(escape|syntax|check)\s*=", line):
            fail(f"parser directive not interpreted: {line}")
    instructions = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        start = i + 1
        i += 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1]
            # Comment lines inside a continuation are dropped, as Docker does.
            while i < len(lines) and lines[i].strip().startswith("#"):
                i += 1
            if i >= len(lines):
                break
            # Docker joins the lines as they are: no separator is added.
            line += lines[i]
            i += 1
        word, _, rest = line.partition(" ")
        instructions.append((start, word.upper(), rest.strip()))
    return instructions


def split_flags(args, allowed, where):
    flags = {}
    words = args.split()
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        if name not in allowed:
            fail(f"{where}: flag --{name} is not interpreted")
        flags[name] = value
    return flags, " ".join(words)


def exec_form(args, where):
    """JSON (exec) form as a list, shell form as /bin/sh -c."""
    if args.startswith("["):
        try:
            value = json.loads(args)
        except json.JSONDecodeError as e:
            fail(f"{where}: invalid JSON form ({e})")
        if not all(isinstance(v, str) for v in value):
            fail(f"{where}: JSON form must be strings")
        return value
    return ["/bin/sh", "-c", args]


def parse_env(args, where):
    words = shlex.split(args, posix=True)
    if words and "=" not in words[0]:
        # Legacy `ENV key value`.
        return {words[0]: args.split(None, 1)[1] if len(words) > 1 else ""}
    env = {}
    for word in words:
        if "=" not in word:
            fail(f"{where}: ENV word without '=': {word}")
        key, _, value = word.partition("=")
        env[key] = value
    return env


def no_variables(args, where):
    if "$" in args:
        fail(f"{where}: variable substitution is not interpreted: {args}")


# --- stages --------------------------------------------------------------------


class Stage:
    def __init__(self, name, image, root, kind):
        self.name, self.image, self.root, self.kind = name, image, root, kind
        self.env = {"PATH": DEFAULT_PATH}
        self.workdir = "/"
        self.user = "root"
        self.entrypoint = []
        self.cmd = []
        self.volumes = []
        self.exposed = []

    def path(self, inside):
        return os.path.join(self.root, inside.lstrip("/"))


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)


def debian_base():
    """A debian:bookworm-slim equivalent: minbase debootstrap, cached."""
    base = os.path.join(CACHE, "debian-bookworm-slim")
    if os.path.isdir(os.path.join(base, "usr")):
        return base
    os.makedirs(CACHE, exist_ok=True)
    partial = tempfile.mkdtemp(prefix="debootstrap.", dir=CACHE)
    # The image's / is 755: its users (apt's _apt, the runtime USER) cross it.
    os.chmod(partial, 0o755)
    say(f"debootstrap --variant=minbase bookworm (first run; cached in {base})")
    started = time.monotonic()
    log = os.path.join(CACHE, "debootstrap.log")
    with open(log, "w") as out:
        code = subprocess.call(
            ["debootstrap", "--variant=minbase", "bookworm", partial, MIRROR],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if code != 0:
        shutil.rmtree(partial, ignore_errors=True)
        fail(f"debootstrap failed ({code}); see {log}")
    # What the image ships: deb822 sources with security updates, no package
    # lists (a RUN must `apt-get update` as in the real image), no .debs.
    os.remove(os.path.join(partial, "etc/apt/sources.list"))
    with open(os.path.join(partial, "etc/apt/sources.list.d/debian.sources"), "w") as f:
        f.write(DEBIAN_SOURCES)
    for d in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for entry in os.listdir(os.path.join(partial, d)):
            p = os.path.join(partial, d, entry)
            if os.path.isfile(p):
                os.remove(p)
    os.rename(partial, base)
    say(f"debootstrap: {time.monotonic() - started:.0f}s")
    return base


def host_is_bookworm():
    with open("/etc/os-release") as f:
        return "VERSION_CODENAME=bookworm" in f.read()


def new_stage(image, name, workspace):
    where = f"FROM {image}"
    if image == "debian:bookworm-slim":
        root = os.path.join(workspace, f"stage-{name}")
        # cp -a keeps owners, modes and device nodes: a fresh image each run.
        run(["cp", "-a", debian_base(), root])
        return Stage(name, image, root, "chroot")
    if image == "rust:1-bookworm":
        if not host_is_bookworm():
            fail(f"{where}: this machine's toolchain stands for the image only on Debian bookworm")
        # A fixed directory under /var/cache: cargo's output from the previous
        # run is reused (like a build cache), the sources are the context's.
        root = os.path.join(CACHE, f"stage-{name}")
        os.makedirs(root, exist_ok=True)
        return Stage(name, image, root, "host")
    fail(f"{where}: no daemon-free equivalent for this image")


def mirror_context(files, dest):
    """COPY . <dest> onto a cached stage: what the previous COPY wrote and the
    context no longer has is removed; what RUN made (target/) stays."""
    manifest = dest.rstrip("/") + ".copied.json"
    try:
        with open(manifest) as f:
            previous = set(json.load(f))
    except FileNotFoundError:
        previous = set()
    for rel in previous - set(files):
        if os.path.lexists(os.path.join(dest, rel)):
            os.remove(os.path.join(dest, rel))
    for rel in files:
        src, dst = os.path.join(CONTEXT, rel), os.path.join(dest, rel)
        s = os.lstat(src)
        try:
            d = os.lstat(dst)
            if (d.st_size, d.st_mtime_ns) == (s.st_size, s.st_mtime_ns):
                continue
        except FileNotFoundError:
            pass
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.remove(dst)
        shutil.copy2(src, dst, follow_symlinks=False)
    with open(manifest, "w") as f:
        json.dump(files, f)


def resolve_user(stage, spec):
    """USER name[:group] or uid[:gid], from the stage's /etc/passwd and
    /etc/group, with the supplementary groups Docker gives the user."""
    user, _, group = spec.partition(":")
    passwd = [l.split(":") for l in open(stage.path("/etc/passwd")).read().splitlines() if l]
    groups = [l.split(":") for l in open(stage.path("/etc/group")).read().splitlines() if l]
    entry = next((p for p in passwd if p[0] == user or p[2] == user), None)
    if entry is None:
        if not user.isdigit():
            fail(f"USER {spec}: no such user in the image's /etc/passwd")
        uid, gid, name, home = int(user), 0, user, "/"
    else:
        uid, gid, name, home = int(entry[2]), int(entry[3]), entry[0], entry[5]
    if group:
        g = next((g for g in groups if g[0] == group or g[2] == group), None)
        if g is None and not group.isdigit():
            fail(f"USER {spec}: no such group in the image's /etc/group")
        gid = int(g[2]) if g else int(group)
    extra = [int(g[2]) for g in groups if name in g[3].split(",") and int(g[2]) != gid]
    return uid, gid, extra, home


def container_env(stage, uid_home, extra=None):
    env = dict(stage.env)
    env.setdefault("HOME", uid_home)
    env["HOSTNAME"] = "gate-check"
    env.update(extra or {})
    return env


def namespace_command(stage, argv, env, mounts=(), network=False, net_setup=""):
    """argv as PID 1 of new mount and PID (and network) namespaces, chrooted
    in the stage's root, as its USER, in its WORKDIR, with exactly env."""
    uid, gid, extra, _ = resolve_user(stage, stage.user)
    root = stage.root
    setup = [
        "set -e",
        "mount --make-rprivate /",
        f"mount -t proc proc {shlex.quote(root + '/proc')}",
        f"mount -t tmpfs -o mode=1777 tmpfs {shlex.quote(root + '/dev/shm')}",
        # A private devpts, as Docker gives each container (dpkg logs via a pty).
        f"mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts {shlex.quote(root + '/dev/pts')}",
        f"mount --bind {shlex.quote(root + '/dev/pts/ptmx')} {shlex.quote(root + '/dev/ptmx')}",
        f"touch {shlex.quote(root + '/etc/resolv.conf')}",
        f"mount --bind /etc/resolv.conf {shlex.quote(root + '/etc/resolv.conf')}",
    ]
    for host, inside, ro in mounts:
        target = stage.path(inside)
        setup.append(f"mkdir -p {shlex.quote(target)}")
        setup.append(f"mount --bind {shlex.quote(host)} {shlex.quote(target)}")
        if ro:
            setup.append(f"mount -o remount,bind,ro {shlex.quote(target)}")
    if network:
        setup.append("ip link set lo up")
        setup.append(net_setup)
    chroot = ["/usr/sbin/chroot", f"--userspec={uid}:{gid}"]
    chroot.append("--groups=" + ",".join(str(g) for g in extra) if extra else f"--groups={gid}")
    # chroot(1) cannot change directory inside the root before the user
    # change, so the workdir is entered by a tiny exec in the image's shell
    # (the image has /bin/sh: debian:bookworm-slim does).
    inner = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', stage.workdir] + argv
    env_words = [f"{k}={v}" for k, v in env.items()]
    setup.append("exec /usr/bin/env -i " + " ".join(shlex.quote(w) for w in env_words) + " " + " ".join(shlex.quote(w) for w in chroot + [root] + inner))
    flags = ["--mount", "--pid", "--fork", "--kill-child"]
    if network:
        flags.append("--net")
    return ["unshare"] + flags + ["/bin/sh", "-c", "\n".join(setup)]


def apply_run(stage, args, where):
    argv = exec_form(args, where)
    say(f"{where} ({stage.kind})")
    if stage.kind == "host":
        env = dict(os.environ)
        env.update({k: v for k, v in stage.env.items() if k != "PATH"})
        env.setdefault("CARGO_INCREMENTAL", "0")
        code = subprocess.call(argv, cwd=stage.path(stage.workdir), env=env)
    else:
        _, _, _, home = resolve_user(stage, stage.user)
        code = subprocess.call(namespace_command(stage, argv, container_env(stage, home)))
    if code != 0:
        fail(f"{where}: exit status {code}")


def apply_copy(stage, args, where, stages, context_files):
    flags, rest = split_flags(args, {"from"}, where)
    no_variables(rest, where)
    words = exec_form(rest, where) if rest.startswith("[") else rest.split()
    if len(words) != 2:
        fail(f"{where}: only one source and one destination are interpreted")
    src, dest = words
    dest = dest if dest.startswith("/") else os.path.join(stage.workdir, dest)
    if "from" in flags:
        source_stage = stages.get(flags["from"])
        if source_stage is None:
            fail(f"{where}: no stage named {flags['from']}")
        if any(c in src for c in "*?["):
            fail(f"{where}: wildcards are not interpreted")
        origin = source_stage.path(src)
        if not os.path.isfile(origin):
            fail(f"{where}: {src} does not exist in stage {flags['from']}")
        target = stage.path(dest)
        if dest.endswith("/") or os.path.isdir(target):
            target = os.path.join(target, os.path.basename(src))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(origin, target)
        # COPY without --chown leaves root as owner.
        os.chown(target, 0, 0)
        return
    if src not in (".", "./"):
        fail(f"{where}: only `COPY . <dir>` from the context is interpreted")
    target = stage.path(dest)
    os.makedirs(target, exist_ok=True)
    mirror_context(context_files, target)


INTERPRETED = {"FROM", "RUN", "COPY", "WORKDIR", "USER", "ENV", "VOLUME", "EXPOSE", "ENTRYPOINT", "CMD"}


def validate(instructions):
    """Everything is refused before anything runs: a late unknown line must
    not cost a build to be found."""
    flags = {"FROM": set(), "RUN": set(), "COPY": {"from"}}
    for line, word, args in instructions:
        where = f"deploy/Dockerfile:{line} {word}"
        if word not in INTERPRETED:
            fail(f"{where}: instruction not interpreted (teach scripts/container-check.py, or do not use it)")
        if word in flags:
            split_flags(args, flags[word], where)
        # Docker substitutes $VAR in every other instruction, ENV included;
        # RUN and the shell forms leave it to the shell.
        if word not in ("RUN", "ENTRYPOINT", "CMD"):
            no_variables(args, where)


def build(workspace, context_files):
    instructions = parse_dockerfile(DOCKERFILE)
    validate(instructions)
    stages, stage, index = {}, None, 0
    for line, word, args in instructions:
        where = f"deploy/Dockerfile:{line} {word}"
        if word == "FROM":
            flags, rest = split_flags(args, set(), where)
            parts = rest.split()
            if len(parts) == 3 and parts[1].upper() == "AS":
                image, name = parts[0], parts[2]
            elif len(parts) == 1:
                image, name = parts[0], str(index)
            else:
                fail(f"{where}: form not interpreted: {args}")
            stage = new_stage(image, name, workspace)
            # --from takes a stage's name or its index.
            stages[name] = stages[str(index)] = stage
            index += 1
            say(f"{where} {image}: {stage.kind} stage {name}")
            continue
        if stage is None:
            fail(f"{where}: before any FROM")
        if word == "RUN":
            split_flags(args, set(), where)
            apply_run(stage, args, where)
        elif word == "COPY":
            apply_copy(stage, args, where, stages, context_files)
        elif word == "WORKDIR":
            no_variables(args, where)
            stage.workdir = os.path.normpath(os.path.join(stage.workdir, args))
            os.makedirs(stage.path(stage.workdir), exist_ok=True)
        elif word == "USER":
            no_variables(args, where)
            resolve_user(stage, args)  # an unknown user fails here, as at run
            stage.user = args
        elif word == "ENV":
            stage.env.update(parse_env(args, where))
        elif word == "VOLUME":
            no_variables(args, where)
            stage.volumes += exec_form(args, where) if args.startswith("[") else args.split()
        elif word == "EXPOSE":
            no_variables(args, where)
            for port in args.split():
                number, _, proto = port.partition("/")
                if not number.isdigit() or proto not in ("", "tcp"):
                    fail(f"{where}: only TCP port numbers are interpreted: {port}")
                stage.exposed.append(int(number))
        elif word == "ENTRYPOINT":
            stage.entrypoint = exec_form(args, where)
            stage.cmd = []  # ENTRYPOINT resets an inherited CMD
        elif word == "CMD":
            stage.cmd = exec_form(args, where)
        else:
            fail(f"{where}: instruction not interpreted (teach scripts/container-check.py, or do not use it)")
    if stage is None:
        fail("deploy/Dockerfile has no FROM")
    if stage.kind != "chroot":
        fail("the final stage must be a Debian image")
    return stage


# --- docker run ----------------------------------------------------------------

# A non-loopback address inside the container's network namespace: what
# `docker run -p` forwards to. A listener bound to 127.0.0.1 does not answer.
CONTAINER_ADDRESS = "172.31.255.2"


def ns_curl(pid, url, *extra):
    return subprocess.run(
        ["nsenter", f"--target={pid}", "--net", "curl", "-sS", "--max-time", "5", *extra, url],
        capture_output=True,
        text=True,
    )


def entry_process(unshare_pid):
    """The container's PID 1: unshare's only child."""
    for _ in range(100):
        try:
            with open(f"/proc/{unshare_pid}/task/{unshare_pid}/children") as f:
                children = f.read().split()
        except FileNotFoundError:
            return None
        if children:
            return int(children[0])
        time.sleep(0.05)
    return None


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def check_run(stage, workspace):
    argv = stage.entrypoint + stage.cmd
    if not argv:
        fail("the image has no ENTRYPOINT nor CMD")
    if "/etc/gate-server/gate.toml" not in argv:
        fail("the ENTRYPOINT does not read /etc/gate-server/gate.toml, the path docs/operations.md mounts")
    if not stage.exposed:
        fail("the image EXPOSEs no port")
    uid, gid, _, home = resolve_user(stage, stage.user)
    if uid == 0:
        fail(f"the image runs as root (USER {stage.user})")

    bundle = stage.path("/etc/ssl/certs/ca-certificates.crt")
    if not os.path.isfile(bundle):
        fail("no /etc/ssl/certs/ca-certificates.crt: amqps://, HTTPS sinks and Vault cannot verify servers")
    with open(bundle) as f:
        count = f.read().count("BEGIN CERTIFICATE")
    if count < 100:
        fail(f"/etc/ssl/certs/ca-certificates.crt holds {count} certificates only")
    say(f"CA bundle: {count} certificates in /etc/ssl/certs/ca-certificates.crt")

    # -v /etc/gate-server:/etc/gate-server:ro, a secret by --env-file, and
    # a named volume at each VOLUME, seeded from the image like Docker does.
    config_dir = os.path.join(workspace, "etc-gate-server")
    os.makedirs(config_dir)
    with open(os.path.join(config_dir, "gate.toml"), "w") as f:
        f.write(
            '[sinks.local]\nkind = "file"\npath = "notifications.jsonl"\n\n'
            '[sources.GitHub]\nsinks = ["local"]\n\n'
            '[sources.GitHub.doors.acme]\nsecrets = ["env:GITHUB_ACME_SECRET"]\n'
        )
    os.chmod(config_dir, 0o755)
    os.chmod(os.path.join(config_dir, "gate.toml"), 0o644)
    mounts = [(config_dir, "/etc/gate-server", True)]
    volumes = {}
    for i, volume in enumerate(stage.volumes):
        host = os.path.join(workspace, f"volume-{i}")
        run(["cp", "-a", stage.path(volume), host])
        mounts.append((host, volume, False))
        volumes[volume] = host
    secret = hashlib.sha256(os.urandom(16)).hexdigest()
    env = container_env(stage, home, {"GITHUB_ACME_SECRET": secret})
    log_path = os.path.join(workspace, "container.log")
    log = open(log_path, "w")
    net = f"ip addr add {CONTAINER_ADDRESS}/32 dev lo"
    command = namespace_command(stage, argv, env, mounts, network=True, net_setup=net)
    say("docker run: " + " ".join(argv) + f" as {stage.user} ({uid}:{gid}) in {stage.workdir}")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        check_running(stage, proc, log_path, uid, secret, volumes)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def show_log(log_path):
    with open(log_path) as f:
        sys.stderr.write(f.read()[-4000:])


def check_running(stage, proc, log_path, uid, secret, volumes):
    # Every request is made from PID 1's network namespace, never from the
    # host's: this machine's network answers any outbound port by itself.
    pid1 = entry_process(proc.pid)
    if pid1 is None:
        show_log(log_path)
        fail("cannot find the container's PID 1")
    if os.readlink(f"/proc/{pid1}/ns/net") == os.readlink("/proc/self/ns/net"):
        fail("the container shares the host's network namespace")
    port = stage.exposed[0]
    base = f"http://{CONTAINER_ADDRESS}:{port}"
    answer = None
    for _ in range(150):
        if proc.poll() is not None:
            show_log(log_path)
            fail(f"the ENTRYPOINT exited with status {proc.returncode} before answering")
        answer = ns_curl(pid1, base + "/status")
        if answer.returncode == 0:
            break
        time.sleep(0.2)
    for exposed in stage.exposed:
        answer = ns_curl(pid1, f"http://{CONTAINER_ADDRESS}:{exposed}/status")
        if answer.returncode != 0 or answer.stdout.strip() != "ALIVE":
            show_log(log_path)
            fail(f"GET /status on EXPOSEd port {exposed} at a non-loopback address: {answer.stdout!r} {answer.stderr.strip()}")
    say(f"GET /status on every EXPOSEd port ({', '.join(map(str, stage.exposed))}), non-loopback: ALIVE")

    uids = proc_uid(pid1)
    exe = os.readlink(f"/proc/{pid1}/exe")
    if not exe.endswith("/gate-server") or set(uids) != {uid}:
        fail(f"PID 1 is {exe} with uids {uids}, expected gate-server as {uid} only")
    say(f"PID 1 is {exe.replace(stage.root, '')} running as uid {uid} ({stage.user}), unprivileged")

    body = json.dumps(
        {
            "zen": "Keep it logically awesome.",
            "hook_id": 1,
            "repository": {"full_name": "acme/site", "name": "site", "html_url": "https://github.com/acme/site"},
            "sender": {"login": "octocat"},
        }
    )
    delivery = f"container-check-{os.getpid()}"
    signature = "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    answer = ns_curl(
        pid1,
        base + "/gate/GitHub/acme",
        "-o", "/dev/null", "-w", "%{http_code}",
        "-H", "Content-Type: application/json",
        "-H", "X-GitHub-Event: ping",
        "-H", f"X-GitHub-Delivery: {delivery}",
        "-H", f"X-Hub-Signature-256: {signature}",
        "--data-binary", body,
    )
    if answer.stdout != "200":
        show_log(log_path)
        fail(f"a signed ping with the secret from the environment answered {answer.stdout} {answer.stderr}")

    spool = stage.env.get("GATE__SPOOL__PATH")
    if not spool:
        fail("the image sets no GATE__SPOOL__PATH: the spool would go wherever the config says")
    volume = next((v for v in volumes if spool.startswith(v.rstrip("/") + "/")), None)
    if volume is None:
        fail(f"the spool {spool} is not under a VOLUME ({', '.join(stage.volumes)}): it would die with the container")
    spool_host = os.path.join(volumes[volume], os.path.relpath(spool, volume))
    if not os.path.isfile(spool_host) or os.stat(spool_host).st_uid != uid:
        fail(f"no spool owned by uid {uid} at {spool} in the volume")
    if not stage.workdir.startswith(volume):
        fail(f"WORKDIR {stage.workdir} is not in the volume: relative sink paths would die with the container")
    notes = os.path.join(volumes[volume], os.path.relpath(os.path.join(stage.workdir, "notifications.jsonl"), volume))
    if not os.path.isfile(notes) or delivery not in open(notes).read():
        fail(f"the delivery is not in {stage.workdir}/notifications.jsonl in the volume")
    say(f"signed delivery (secret from the environment) accepted; spool {spool} and notifications.jsonl in VOLUME {volume}")

    # docker stop: SIGTERM to PID 1, then SIGKILL after the timeout (40 s in
    # docs/operations.md). PID 1 has no default signal actions: the
    # gateway must handle SIGTERM itself.
    os.kill(pid1, signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        fail("still running 40 s after SIGTERM (docker stop -t 40 would kill it)")
    if proc.returncode != 0:
        show_log(log_path)
        fail(f"exit status {proc.returncode} after SIGTERM")
    say("docker stop (SIGTERM to PID 1): exit 0")


def main():
    global DOCKERFILE, CONTEXT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--context-only", action="store_true", help="check the build context only")
    parser.add_argument("--dockerfile", default=DOCKERFILE, help="the recipe (default deploy/Dockerfile)")
    parser.add_argument("--context", default=CONTEXT, help="the build context (default the repository)")
    options = parser.parse_args()
    DOCKERFILE, CONTEXT = os.path.abspath(options.dockerfile), os.path.abspath(options.context)
    if os.geteuid() != 0:
        fail("needs root (chroot, namespaces, debootstrap)")
    started = time.monotonic()
    context_files = check_context()
    if options.context_only:
        return
    workspace = tempfile.mkdtemp(prefix="gate-container-check.")
    try:
        final = build(workspace, context_files)
        say(f"image built without a daemon: {time.monotonic() - started:.0f}s")
        check_run(final, workspace)
    finally:
        if options.keep:
            say(f"kept {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    say(f"deploy/Dockerfile builds and runs: {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        print(f"container-check: FAIL: {e}", file=sys.stderr)
        sys.exit(1)
