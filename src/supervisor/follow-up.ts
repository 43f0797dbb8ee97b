import { backendNamed, continuesHere } from "../backend/registry.js";
import { BatonError } from "../errors.js";
import type { SpawnParams } from "../protocol/messages.js";
import { isFinal } from "../worker/state.js";
import type { StartingCommit } from "./isolation.js";
import type { WorkerTable } from "./worker-table.js";

/**
 * A follow-up (`continues`): the ended worker whose agent thread it continues, and the request with
 * what it leaves unset taken from that worker (cwd, role, scope, label, model, binary, isolation,
 * search). Refused in one line when that worker is unknown, has not ended, ended without a thread,
 * or is being continued already: two turns at once in one thread would interleave; and, where the
 * follow-up runs on this machine (`home`, the run store), when its agent cannot find the thread with
 * the caller's environment (another CODEX_HOME): the agent would fail on it, saying less.
 */
export function followUp(
  table: WorkerTable,
  request: SpawnParams,
  home?: string,
): { params: SpawnParams; threadId: string | undefined; parentChange?: StartingCommit } {
  if (request.inThread) {
    if (request.continues || request.resumeThread || !backendNamed(request.backend ?? "codex").canResume)
      throw new BatonError(
        "usage",
        "inThread is a follow-up on a backend that resumes, alone: not with continues or resumeThread",
      );
    return { params: request, threadId: request.inThread };
  }
  if (!request.continues) return { params: request, threadId: undefined };
  const parentId = request.continues;
  const { spec, status } = table.get(parentId);
  const again = `wait for it (\`baton wait ${parentId}\`), then continue it`;
  if (status.state === "lost")
    throw new BatonError(
      "usage",
      `worker ${parentId} was lost with its supervisor: continue its own task with \`baton resume ${parentId}\`, then follow up`,
    );
  if (!isFinal(status.state))
    throw new BatonError("not_finished", `worker ${parentId} is still ${status.state}: ${again}`);
  if (request.backend !== undefined && request.backend !== spec.backend)
    throw new BatonError(
      "usage",
      `worker ${parentId} ran on ${spec.backend}: a follow-up continues its thread on the same backend`,
    );
  const threadId = backendNamed(spec.backend).canResume ? status.threadId : undefined;
  if (!threadId)
    throw new BatonError(
      "usage",
      `worker ${parentId} has no agent thread to continue (its agent never started one): spawn a new worker instead`,
    );
  const backend = backendNamed(spec.backend);
  if (home !== undefined && !continuesHere(backend, threadId, request.env, home)) {
    const homes = backend.agentHomes(request.env);
    const where = homes.length > 0 ? homes.join(" or ") : `this machine's ${spec.backend} sessions`;
    throw new BatonError(
      "usage",
      `worker ${parentId}'s thread ${threadId} is not in ${where}: follow up with the environment ${parentId} ran in, or spawn a new worker`,
    );
  }
  for (const other of table.all()) {
    if (!isFinal(other.status.state) && other.status.threadId === threadId)
      throw new BatonError(
        "busy",
        `worker ${other.spec.id} is continuing the thread of ${parentId} already: ${again.replace(parentId, other.spec.id)}`,
      );
  }
  const scoped = request.write?.length || request.readOnly || request.role;
  const params: SpawnParams = {
    ...request,
    cwd: request.cwd ?? spec.cwd,
    role: request.role ?? spec.role,
    label: request.label ?? spec.label,
    model: request.model ?? spec.model,
    backend: spec.backend,
    bin: request.bin ?? spec.bin,
    isolate: request.isolate ?? spec.isolate,
    search: request.search ?? spec.search,
    ...(scoped ? {} : spec.scope.kind === "write" ? { write: [...spec.scope.paths] } : { readOnly: true }),
  };
  return { params, threadId, ...(params.isolate ? changeOf(table, parentId) : {}) };
}

/**
 * Where an isolated follow-up starts: its isolated parent's edits are on the parent's branch, not in
 * the shared checkout, and the follow-up starts from its commit, so that the thread finds the files
 * as it left them (a parent that changed nothing: the commit it started from). A parent whose result
 * names no change (damaged, or its worktree never collected) is refused rather than started without it.
 */
function changeOf(table: WorkerTable, parentId: string): { parentChange?: StartingCommit } {
  const { spec, result } = table.get(parentId);
  if (!spec.isolate) return {};
  if (!result?.isolation)
    throw new BatonError(
      "usage",
      `worker ${parentId}'s change is not known (its result names no branch; see \`baton result ${parentId}\`): spawn a new worker instead`,
    );
  const commit = result.isolation.commit ?? spec.baseCommit;
  if (!commit) return {};
  const otherwise = `restore its branch ${result.isolation.branch}, or spawn a new worker`;
  return { parentChange: { commit, of: `worker ${parentId}'s change`, otherwise } };
}
