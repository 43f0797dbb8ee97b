import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { confiner, Sandbox } from "../dist/confine/index.js";
import { layoutFor } from "../dist/confine/layout.js";
import {
  isNameService,
  listeningSockets,
  MAX_COVERED_SOCKETS,
  reachableSockets,
} from "../dist/confine/sockets.js";
import type { WorkerResult } from "../dist/index.js";
import { directiveScript } from "../dist/scripted-model/index.js";
import { trustStore } from "../dist/store/trusted.js";
import { supervisorSocketCheck } from "../dist/supervisor/supervisor-sockets.js";
import { FIXTURES, Workspace } from "./support/harness.ts";
import { listen } from "./support/listen.ts";

// The user's programs listen on Unix sockets that act for whoever connects: a container engine, an
// SSH agent, the user's systemd (`systemd-run --user` starts any command, outside every sandbox). A
// confined worker must reach none of them; one the worker may write beside is its own business.

const HEADER = "Num       RefCount Protocol Flags    Type St Inode Path\n";
/** A row of `/proc/net/unix`: by default a listening stream socket. */
const row = (path: string, flags = "00010000", type = "0001", inode = "12345") =>
  `0000000000000000: 00000002 00000000 ${flags} ${type} 01 ${inode} ${path}\n`;

describe("sockets the user's programs listen on", () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "baton-sockets-")));
  after(() => rmSync(root, { recursive: true, force: true }));

  test("are read from the kernel's table: sockets still there, by their real path, paths with spaces too", async () => {
    const spaced = join(root, "with space");
    mkdirSync(spaced);
    const a = await listen(join(spaced, "agent.sock"));
    const b = await listen(join(root, "b.sock"));
    const c = await listen(join(root, "c.sock"));
    const d = await listen(join(root, "d.sock"));
    writeFileSync(join(root, "plain.txt"), "not a socket\n");
    symlinkSync(spaced, join(root, "link"));
    try {
      const table =
        HEADER +
        row(join(spaced, "agent.sock")) +
        row(join(root, "link", "agent.sock")) + // bound through a link: the same socket, by its real path
        row(join(root, "b.sock"), "00010000", "0001", "  646") + // a small inode, padded
        row(join(root, "b.sock"), "00000000", "0001") + // an accepted connection of b's: the same path
        row(join(root, "c.sock"), "00000000", "0001") + // only connections at c's path: no one listens there
        row(join(root, "d.sock"), "00000000", "0002") + // a bound datagram socket takes messages
        row("@/tmp/.X11-unix/X0") + // abstract: no file to cover
        row("relative.sock") +
        row(join(root, "plain.txt")) + // no longer a socket
        row(join(root, "gone.sock")) +
        row(`${root}/../${root.split("/").pop()}/b.sock`) + // not a normal path: skipped
        "0000000000000000: 00000002 00000000 00000000 0001 01 12346\n"; // unnamed
      assert.deepEqual(reachableSockets(table), [
        join(spaced, "agent.sock"),
        join(root, "b.sock"),
        join(root, "d.sock"),
      ]);
    } finally {
      for (const server of [a, b, c, d]) server.server.close();
    }
  });

  test("are not covered where another user could put a link in their place (bubblewrap would follow it)", async (t) => {
    if (process.getuid?.() !== 0) return t.skip("needs root, to make folders and sockets of another user's");
    const nobody = 65534;
    const made: { server: Server }[] = [];
    const at = async (folder: string, mode: number, owner?: number) => {
      mkdirSync(folder);
      chmodSync(folder, mode);
      const socket = join(folder, "s.sock");
      made.push(await listen(socket));
      chmodSync(socket, 0o777);
      if (owner !== undefined) chownSync(socket, owner, owner);
      return socket;
    };
    try {
      const others = join(root, "others");
      const theirs = await at(others, 0o755);
      chownSync(others, nobody, nobody); // another user's folder: they may rename anything in it
      const open = await at(join(root, "open"), 0o777); // anyone may replace the socket
      const stickyTheirs = await at(join(root, "sticky"), 0o1777, nobody); // /tmp-like, their socket
      const stickyOurs = join(root, "sticky", "ours.sock"); // /tmp-like, ours: they cannot touch it
      made.push(await listen(stickyOurs));
      const ours = await at(join(root, "ours"), 0o700);
      const table = HEADER + [theirs, open, stickyTheirs, stickyOurs, ours].map((p) => row(p)).join("");
      assert.deepEqual(reachableSockets(table), [stickyOurs, ours]);
      // A sandbox covers at most so many (each is three arguments); past that, none is made: a writer
      // that binds many in its scope, where they are its own, must not push the others' out.
      const lots = await Promise.all(
        Array.from({ length: MAX_COVERED_SOCKETS + 8 }, (_, i) => listen(join(root, "ours", `${i}.sock`))),
      );
      made.push(...lots);
      const all = HEADER + lots.map((_, i) => row(join(root, "ours", `${i}.sock`))).join("");
      const sockets = reachableSockets(all);
      assert.equal(sockets.length, MAX_COVERED_SOCKETS + 8);
      const empty = { scope: [], readOnly: [], hidden: [], readable: [], scratch: [], private: [] };
      assert.throws(
        () => layoutFor({ ...empty, sockets }),
        /^Error: cannot confine the worker: 1032 sockets to cover in its sandbox, more than 1024 .*--unconfined$/,
      );
      const writer = layoutFor({ ...empty, scope: [join(root, "ours")], sockets });
      assert.equal(writer.mounts.filter((m) => m.kind === "masked").length, 0, "the writer's own");
    } finally {
      for (const { server } of made) server.close();
    }
  });

  test("those that only say who a user is are left reachable: without them, LDAP and homed users have no name", () => {
    for (const path of [
      "/run/nscd/socket",
      "/var/run/nscd/socket",
      "/var/lib/sss/pipes/nss",
      "/run/systemd/userdb/io.systemd.Multiplexer",
    ])
      assert.equal(isNameService(path), true, path);
    for (const path of [
      "/var/lib/sss/pipes/private/sbus-dp", // SSSD's own, root's
      "/run/systemd/private",
      "/run/user/1000/systemd/private", // the user's systemd starts commands
      "/run/dbus/system_bus_socket",
      "/tmp/run/nscd/socket",
    ])
      assert.equal(isNameService(path), false, path);
  });

  test("only a supervisor's own socket is taken for one by its path; a supervisor.json beside a socket is not enough", async () => {
    const own = join(root, "own-store", "supervisor.sock");
    const isSupervisors = supervisorSocketCheck(own);
    assert.equal(isSupervisors(own, [1]), true, "the supervisor's own");
    const store = join(root, "store");
    mkdirSync(store);
    const socket = join(store, "supervisor.sock");
    const program = await listen(socket);
    try {
      const inodes = listeningSockets().get(socket);
      assert.equal(inodes?.length, 1, "the kernel lists it");
      assert.equal(isSupervisors(socket, inodes!), false, "no supervisor.json beside it");
      // This test's own process holds it: a program of the user's, not a supervisor, though the store
      // is one Baton made for the user (so the check gets as far as the process).
      const env = { ...process.env, XDG_STATE_HOME: join(root, "state") };
      trustStore(store, env);
      writeFileSync(join(store, "supervisor.json"), JSON.stringify({ pid: process.pid }));
      assert.equal(supervisorSocketCheck(own, env)(socket, inodes!), false, "named, but no supervisor");
      writeFileSync(join(store, "supervisor.json"), JSON.stringify({ pid: process.pid }).padEnd(70_000));
      assert.equal(supervisorSocketCheck(own, env)(socket, inodes!), false, "past 64 KiB");
      // A FIFO in its place is not opened (it would hold the supervisor up for good).
      rmSync(join(store, "supervisor.json"));
      assert.equal(spawnSync("mkfifo", [join(store, "supervisor.json")]).status, 0);
      assert.equal(supervisorSocketCheck(own)(socket, inodes!), false);
    } finally {
      program.server.close();
    }
    assert.equal(isSupervisors(join(root, "supervisor.sock"), [1]), false, "supervisord's, say");
    const shortPath = join(tmpdir(), `baton-${process.getuid?.()}`, "0123456789abcdef.sock");
    assert.equal(isSupervisors(shortPath, [1]), false, "another store's by the short path");
    assert.equal(supervisorSocketCheck(shortPath)(shortPath, [1]), true);
  });

  test("each path's inodes are read from the table, padded or listed twice", () => {
    const table =
      HEADER +
      row("/run/a.sock", "00010000", "0001", "  646") +
      row("/run/a.sock", "00000000", "0001", "777") + // an accepted connection: not listening
      row("/run/a.sock", "00010000", "0001", "12347") + // a second socket bound where the first's file was
      row("/run/b c.sock");
    // (With each row's path run on over the next rows, as a path with a line end would: see below.)
    assert.deepEqual(
      [...listeningSockets(table)].filter(([path]) => !path.includes("\n")),
      [
        ["/run/a.sock", [646, 12347]],
        ["/run/b c.sock", [12345]],
      ],
    );
  });

  test("one bound at a path with a line end, or at one that is not UTF-8, is covered all the same", async (t) => {
    const confined = confiner();
    if (!confined.ok) return t.skip(confined.why);
    // What a writer could bind in its scope to keep every other sandbox from covering it: the kernel's
    // table shows such a path over two lines, the second one a row of its own to the eye.
    const scope = join(root, "scope");
    mkdirSync(join(scope, "odd"), { recursive: true });
    const split = join(scope, "a\nb.sock");
    const forgedRow = join(scope, `c\n${row("").trimEnd()} `); // a folder; the socket is the row's path
    mkdirSync(forgedRow);
    const forged = join(forgedRow, "x.sock");
    assert.ok(Buffer.byteLength(forged) <= 108, "a path a socket can be bound at");
    const servers = [await listen(split), await listen(forged)];
    // And one that is not UTF-8, which no argument can name: perl binds it (Node names paths as strings).
    const raw = Buffer.concat([Buffer.from(`${join(scope, "odd")}/`), Buffer.from([0xff, 0x2e, 0x73])]);
    const perl = spawn(
      "perl",
      [
        "-MSocket",
        "-e",
        'socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; bind($s, pack_sockaddr_un(pack("H*", $ARGV[0]))) or die "bind: $!"; listen($s, 5) or die; $| = 1; print "ready\\n"; while (accept(my $c, $s)) { print "connected\\n" }',
        raw.toString("hex"),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let heard = "";
    perl.stdout.setEncoding("utf8").on("data", (text: string) => {
      heard += text;
    });
    await new Promise<void>((resolve, reject) => {
      perl.stdout.on("data", () => heard.includes("ready") && resolve());
      perl.once("exit", (code) => reject(new Error(`perl exited ${code}`)));
    });
    try {
      const covered = reachableSockets();
      assert.ok(covered.includes(split), "the socket whose path runs over two lines");
      assert.ok(covered.includes(forged), "the one whose second line looks like a row");
      assert.ok(covered.includes(join(scope, "odd")), "the folder of the one no argument can name");
      // A confined worker reaches none of them.
      const sandbox = Sandbox.for(confined, {
        ...{ scope: [], readOnly: [], hidden: [], readable: [], scratch: [], private: [] },
        sockets: covered,
      });
      const attempt = (program: { file: string; args: string[] }) => {
        const { file, args } = sandbox.wrap(program, root, undefined);
        const out = spawnSync(file, args, { encoding: "utf8", timeout: 20_000 });
        assert.equal(out.status, 0, out.stderr);
        return out.stdout.trim();
      };
      const connect =
        'import { connect } from "node:net"; for (const p of process.argv.slice(1)) await new Promise((r) => { const s = connect(p); s.on("connect", () => { console.log("CONNECTED"); s.end(); r(); }); s.on("error", (e) => { console.log("REFUSED " + e.code); r(); }); });';
      assert.equal(
        attempt({ file: process.execPath, args: ["--input-type=module", "-e", connect, split, forged] }),
        "REFUSED ECONNREFUSED\nREFUSED ECONNREFUSED",
      );
      const perlConnect =
        'socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; print connect($s, pack_sockaddr_un(pack("H*", $ARGV[0]))) ? "CONNECTED" : "REFUSED $!"';
      assert.equal(
        attempt({ file: "perl", args: ["-MSocket", "-e", perlConnect, raw.toString("hex")] }),
        "REFUSED No such file or directory",
      );
      for (const { connections } of servers) assert.equal(connections(), 0, "nothing reached the programs");
      assert.doesNotMatch(heard, /connected/);
      // They do listen: outside a sandbox, they are reached (by a child this process does not wait on
      // blocked, so that the programs here can take its connections).
      const { stdout } = await promisify(execFile)(process.execPath, [
        "--input-type=module",
        "-e",
        connect,
        split,
        forged,
      ]);
      assert.equal(stdout.trim(), "CONNECTED\nCONNECTED");
    } finally {
      for (const { server } of servers) server.close();
      perl.kill();
    }
  });

  test("one gone before bubblewrap covers it fails the start in words Baton knows, so it starts again", (t) => {
    const confined = confiner();
    if (!confined.ok) return t.skip(confined.why);
    const gone = join(root, "gone.sock");
    const sandbox = Sandbox.for(confined, {
      ...{ scope: [], readOnly: [], hidden: [], readable: [], scratch: [], private: [] },
      sockets: [gone],
    });
    const { file, args } = sandbox.wrap({ file: "/bin/true", args: [] }, root, undefined);
    const out = spawnSync(file, args, { encoding: "utf8", timeout: 20_000 });
    assert.notEqual(out.status, 0, "bubblewrap cannot make the file to cover");
    assert.match(
      sandbox.coverGone(out.stderr) ?? "",
      /^the socket .*gone\.sock, to be covered in the sandbox, went away/,
    );
    assert.equal(
      sandbox.coverGone("bwrap: Can't create file at /etc/passwd: Read-only file system"),
      undefined,
    );
    assert.equal(sandbox.coverGone(""), undefined);
    // The folder hidden for a socket no argument can name, gone the same way.
    const folder = join(root, "gone-folder");
    mkdirSync(folder);
    const hiding = Sandbox.for(confined, {
      ...{ scope: [], readOnly: [], hidden: [], readable: [], scratch: [], private: [] },
      sockets: [folder],
    });
    rmSync(folder, { recursive: true });
    const started = hiding.wrap({ file: "/bin/true", args: [] }, root, undefined);
    const failed = spawnSync(started.file, started.args, { encoding: "utf8", timeout: 20_000 });
    assert.notEqual(failed.status, 0, "bubblewrap cannot make the folder to hide");
    assert.match(
      hiding.coverGone(failed.stderr) ?? "",
      /^the folder .*gone-folder, hidden in the sandbox for a socket in it, went away/,
    );
    assert.equal(hiding.coverGone("bwrap: Can't mkdir /etc/x: Read-only file system"), undefined);
  });

  describe("seen from workers", () => {
    let ws: Workspace;
    before(async () => {
      ws = await Workspace.create(directiveScript());
    });
    after(async () => {
      await ws?.cleanup();
    });

    /** Spawns the fixture that connects to `socket`, and returns its answer. */
    const tryConnect = async (socket: string, args: readonly string[]) => {
      const id = (
        await ws.ok(["spawn", "--cmd", join(FIXTURES, "daemon-socket-command.sh"), ...args, socket])
      ).trim();
      await ws.baton(["wait", id]);
      const result = await ws.json<WorkerResult>(["result", id]);
      return { confinement: result.confinement, verdict: result.answer.split("\n").at(-1) };
    };

    test("no confined worker connects to one outside the places it may write; an unconfined one does", async () => {
      const user = await listen(join(root, "user-agent.sock"));
      const inside = join(ws.dir, "dev-server.sock");
      const own = await listen(inside);
      try {
        for (const args of [[], ["--role", "implementer"]]) {
          const seen = await tryConnect(join(root, "user-agent.sock"), args);
          assert.deepEqual(seen, { confinement: "baton", verdict: "REFUSED ECONNREFUSED" }, args.join(" "));
        }
        assert.equal(user.connections(), 0, "nothing reached the user's program");
        // A reader may write nowhere: a socket in the workspace is covered for it too.
        assert.deepEqual(await tryConnect(inside, []), {
          confinement: "baton",
          verdict: "REFUSED ECONNREFUSED",
        });
        assert.equal(own.connections(), 0);
        // A writer of the workspace could make that socket itself: it is left alone there.
        assert.deepEqual(await tryConnect(inside, ["--role", "implementer"]), {
          confinement: "baton",
          verdict: "CONNECTED",
        });
        assert.equal(own.connections(), 1);
        // A writer of one file beside it may not write the socket's folder at large: covered.
        writeFileSync(join(ws.dir, "notes.txt"), "notes\n");
        assert.deepEqual(await tryConnect(inside, ["--write", join(ws.dir, "notes.txt")]), {
          confinement: "baton",
          verdict: "REFUSED ECONNREFUSED",
        });
        assert.equal(own.connections(), 1);
        // The program does listen: without Baton's sandbox, a worker gets through.
        assert.deepEqual(await tryConnect(join(root, "user-agent.sock"), ["--unconfined"]), {
          confinement: "unconfined",
          verdict: "CONNECTED",
        });
        assert.equal(user.connections(), 1);
      } finally {
        user.server.close();
        own.server.close();
      }
    });

    test("a socket dressed up as a supervisor's is covered; a real supervisor's is left to it", async () => {
      // Another store's live supervisor, which holds its socket: left uncovered, as it serves no worker.
      await ws.ok(["ls"]); // it runs
      const elsewhere = supervisorSocketCheck("/elsewhere/supervisor.sock", ws.env);
      const real = join(ws.home, "supervisor.sock");
      const realInodes = listeningSockets().get(real);
      assert.ok(realInodes, "the workspace's supervisor listens in its store");
      assert.equal(elsewhere(real, realInodes), true);
      assert.equal(elsewhere(real, [...realInodes, 1]), false, "unless another socket is listed at its path");
      // A program that binds a supervisor.sock and names that real supervisor beside it, as a writer
      // could in its scope: covered for every confined worker.
      const fake = join(root, "fake-store", "supervisor.sock");
      mkdirSync(join(root, "fake-store"));
      const program = await listen(fake);
      writeFileSync(join(root, "fake-store", "supervisor.json"), JSON.stringify({ pid: ws.supervisorPid() }));
      trustStore(join(root, "fake-store"), ws.env); // as if Baton had made it: the process decides
      try {
        const inodes = listeningSockets().get(fake);
        assert.ok(inodes);
        assert.equal(elsewhere(fake, inodes), false);
        assert.deepEqual(await tryConnect(fake, []), {
          confinement: "baton",
          verdict: "REFUSED ECONNREFUSED",
        });
        assert.equal(program.connections(), 0, "nothing reached the program");
        assert.deepEqual(await tryConnect(fake, ["--unconfined"]), {
          confinement: "unconfined",
          verdict: "CONNECTED",
        });
      } finally {
        program.server.close();
      }
    });
  });
});
