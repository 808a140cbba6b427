#!/usr/bin/python3
"""Benchmark: one agent-mode login against one typed login.  The driver
tests/bench/agent_logins.c logs in N times each way, interleaved, in one
small process through libpam (pam_start_confdir, pam_authenticate,
pam_end per login, as tests/bench/login_bench.c does), with its real uid
and gid alice's and its effective ids root's, as sudo runs; the same
P-256 certificate and the same trust files (CA, intermediate, CRL) for
both:

- agent: a service with agent=only; a real ssh-agent run by alice holds
  her key.  The module checks her socket, forks the child that connects
  as her and reaps it, lists the agent's keys, has the agent sign the
  challenge and checks the answer, chain and CRL: the time includes the
  connecting child and the agent's signing.
- typed: the same service without agent=; the conversation signs the
  challenge in-process (OpenSSL).  Shown whole, and less the time spent
  inside the conversation (the client's signing): the module's own part.

Beside them, for reading the difference: one connection, key listing and
signature straight to the same agent from this script.  Prints medians
and p90s, never asserts a time.  Run as root (the module's safe-path
rules), by `make bench` or directly:

    top_srcdir=... top_builddir=... /usr/bin/python3 tests/bench/agent_bench.py [N]
"""

import base64
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import lib  # noqa: E402
import keys  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
UID = 2851
USERS = {"alice": lib.Account(UID)}


def agent_round_trip(sock, blob):
    """Seconds for one connection, key listing and signature of a
    challenge-sized message, straight to the agent."""
    def msg(b):
        return struct.pack(">I", len(b)) + b

    def read(s):
        head = b""
        while len(head) < 4:
            head += s.recv(4 - len(head))
        want, body = struct.unpack(">I", head)[0], b""
        while len(body) < want:
            body += s.recv(want - len(body))
        return body

    data = b"certauth:v1:host:bench:alice:1790000000:" + b"A" * 43
    t0 = time.perf_counter()
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(msg(b"\x0b"))
    if read(s)[0] != 12:
        raise SystemExit("bench: the agent did not list its keys")
    s.sendall(msg(b"\x0d" + msg(blob) + msg(data) + struct.pack(">I", 0)))
    if read(s)[0] != 14:
        raise SystemExit("bench: the agent did not sign")
    s.close()
    return time.perf_counter() - t0


def stats(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(0.9 * len(xs)))]


def main():
    try:
        lib.preflight(("openssl", "mount", "ssh-agent", "ssh-add",
                       "ssh-keygen"))
    except lib.SkipAll as e:
        print("bench: cannot run: %s" % e)
        return 1
    build = lib.Build()
    lib.Namespace(USERS)
    pki = lib.PKI()
    cert = pki.issue("alice", "p256")
    pki.gencrl()
    lib.bind("/mnt/bindings", "alice", cert)
    trust = ["ca_file=" + pki.ca, "chain_file=" + pki.chain,
             "crl_file=" + pki.crl, "bindings_dir=/mnt/bindings"]
    lib.service("bench-typed", build.module, trust)
    lib.service("bench-agent", build.module, trust + ["agent=only"])
    d = "/mnt/home/alice/agent"
    os.mkdir(d, 0o700)
    os.chown(d, UID, UID)
    agent = keys.Agent(d + "/sock", run_as=[
        "setpriv", "--reuid=alice", "--regid=alice", "--init-groups"])
    try:
        agent.load(cert, lib.MNT)
        pub = lib.run(["ssh-keygen", "-y", "-f", cert.key]).stdout.split()
        blob = base64.b64decode(pub[1])
        driver = os.path.join(build.top, "tests", "bench", "agent_logins")

        def as_sudo():
            # The real ids alice's, the effective ones root's.
            os.setresgid(UID, 0, 0)
            os.setresuid(UID, 0, 0)

        for _ in range(10):                # warm the caches
            agent_round_trip(agent.sock, blob)
        p = subprocess.run([driver, "--confdir", lib.PAMD,
                            "--agent-service", "bench-agent",
                            "--typed-service", "bench-typed",
                            "--user", "alice", "--key", cert.key,
                            "--count", str(N + 10)],
                           env=dict(os.environ, SSH_AUTH_SOCK=agent.sock),
                           preexec_fn=as_sudo, capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise SystemExit("bench: %s failed: %s" % (driver, p.stderr))
        trips = [agent_round_trip(agent.sock, blob) for _ in range(N)]
    finally:
        agent.stop()
    times = {"agent": [], "typed": [], "conv": []}
    for line in p.stdout.splitlines():
        tag, us, inside = line.split()
        times[tag].append(float(us) / 1e6)
        if tag == "typed":
            times["conv"].append((float(us) - float(inside)) / 1e6)
    med = {}
    rows = [("agent", "agent=only, ssh-agent signs"),
            ("typed", "typed, whole login"),
            ("conv", "typed, less the conversation")]
    print("bench: agent-mode login against a typed one, libpam in one "
          "process (real uid alice, effective root), P-256, CA + "
          "intermediate + CRL, %d logins each" % N)
    print("bench: %-34s %10s %10s" % ("login", "median ms", "p90 ms"))
    for k, name in rows:
        m, p90 = stats(times[k][10:])       # the first 10 warm the caches
        med[k] = m
        print("bench: %-34s %10.2f %10.2f" % (name, 1000 * m, 1000 * p90))
    m, p90 = stats(trips)
    print("bench: %-34s %10.2f %10.2f" % ("agent round trip (list + sign)",
                                          1000 * m, 1000 * p90))
    print("bench: an agent login takes %.2f ms more than a typed one "
          "(medians), %.2f ms more than the module's part of a typed one"
          % (1000 * (med["agent"] - med["typed"]),
             1000 * (med["agent"] - med["conv"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
