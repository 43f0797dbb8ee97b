/* Where the workspace's supervisor listens, found as Node's CLI finds it: the run store by
 * src/store/home.ts's rules (or --home), its socket by src/supervisor/endpoint.ts's. */
#ifndef BATON_WORKSPACE_H
#define BATON_WORKSPACE_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"

/* As in src/supervisor/endpoint.ts. */
#define MAX_SOCKET_PATH 100

/* `path` resolved against `base` as Node's path.resolve does: absolute, no `.`, `..` or double slash. */
static int resolve_path(const char *base, const char *path, char out[PATH_MAX]) {
  char joined[2 * PATH_MAX + 2];
  if (path[0] == '/') snprintf(joined, sizeof joined, "%s", path);
  else snprintf(joined, sizeof joined, "%s/%s", base, path);
  size_t len = 0;
  out[0] = '\0';
  for (char *part = strtok(joined, "/"); part; part = strtok(NULL, "/")) {
    if (strcmp(part, ".") == 0) continue;
    if (strcmp(part, "..") == 0) {
      while (len > 0 && out[len] != '/') len--;
      out[len] = '\0';
      continue;
    }
    size_t size = strlen(part);
    if (len + size + 2 >= PATH_MAX) return -1;
    out[len++] = '/';
    memcpy(out + len, part, size);
    len += size;
    out[len] = '\0';
  }
  if (len == 0) strcpy(out, "/");
  return 0;
}

/* Whether something is at `path`, not followed; as src/store/home.ts's present(). */
static int present(const char *path) {
  struct stat info;
  if (lstat(path, &info) == 0) return 1;
  return errno != ENOENT && errno != ENOTDIR;
}

/* Whether the folder `home` is a store Baton made or was pointed at for this user, as
 * src/store/trusted.ts's isTrustedStore() tells: its entry, named by the sha256 of its real path,
 * holds its device and inode. */
static int trusted_store(const char *home) {
  const char *state = getenv("XDG_STATE_HOME"), *user = getenv("HOME");
  char dir[PATH_MAX], real[PATH_MAX], hex[65], entry[PATH_MAX + 80], want[64], got[64] = {0};
  if (state && state[0] == '/') snprintf(dir, sizeof dir, "%s/baton/stores", state);
  else if (user && user[0] == '/') snprintf(dir, sizeof dir, "%s/.local/state/baton/stores", user);
  else return 0;
  struct stat info;
  if (lstat(home, &info) != 0 || !S_ISDIR(info.st_mode) || !realpath(home, real)) return 0;
  sha256_hex(real, strlen(real), hex);
  snprintf(entry, sizeof entry, "%s/%s", dir, hex);
  snprintf(want, sizeof want, "%llu:%llu\n", (unsigned long long)info.st_dev, (unsigned long long)info.st_ino);
  FILE *file = fopen(entry, "re");
  if (!file) return 0;
  size_t size = fread(got, 1, sizeof got - 1, file);
  fclose(file);
  return size == strlen(want) && memcmp(got, want, size) == 0;
}

/* Whether `git` names a repository, as src/store/home.ts's isRepository() judges: a folder holding
 * HEAD, or a file that is not empty; followed. What cannot be checked counts as one. */
static int is_repository(const char *git) {
  struct stat info;
  if (stat(git, &info) != 0) return errno != ENOENT && errno != ENOTDIR;
  if (!S_ISDIR(info.st_mode)) return info.st_size > 0;
  char head[PATH_MAX + 8];
  snprintf(head, sizeof head, "%s/HEAD", git);
  return present(head);
}

/* The run store, found as src/store/home.ts's resolveHome() finds it, or --home. A `.baton` found on
 * the way up that is not trusted_store() is left to Node's CLI, which refuses it in one line. */
static int find_home(const char *cwd, const char *flag, char home[PATH_MAX]) {
  if (flag) {
    /* The supervisor knows its store by the name it was given: take only a plain absolute one. */
    if (resolve_path("/", flag, home) != 0 || strcmp(home, flag) != 0) return -1;
    return 0;
  }
  const char *env = getenv("BATON_HOME");
  if (env && *env) return resolve_path(cwd, env, home);
  char dir[PATH_MAX], probe[PATH_MAX + 16];
  if (resolve_path(cwd, ".", dir) != 0) return -1;
  for (;;) {
    const char *sep = strcmp(dir, "/") == 0 ? "" : "/";
    snprintf(probe, sizeof probe, "%s%s.baton", dir, sep);
    int has_store = present(probe);
    if (has_store && !trusted_store(probe)) return -1;
    snprintf(probe, sizeof probe, "%s%s.git", dir, sep);
    if (has_store || is_repository(probe)) return snprintf(home, PATH_MAX, "%s%s.baton", dir, sep) < PATH_MAX ? 0 : -1;
    if (strcmp(dir, "/") == 0) break;
    *strrchr(dir, '/') = '\0';
    if (dir[0] == '\0') strcpy(dir, "/");
  }
  return resolve_path(cwd, ".baton", home);
}

/* The supervisor's socket, as src/supervisor/endpoint.ts's endpointFor() names it. */
static int socket_path(const char *home, char out[PATH_MAX]) {
  if (strlen(home) + strlen("/supervisor.sock") <= MAX_SOCKET_PATH) {
    snprintf(out, PATH_MAX, "%s/supervisor.sock", home);
    return 0;
  }
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = getenv("TMP");
  if (!tmp || !*tmp) tmp = getenv("TEMP");
  if (!tmp || !*tmp) tmp = "/tmp";
  char dir[PATH_MAX], hex[65];
  if (tmp[0] != '/' || resolve_path("/", tmp, dir) != 0) return -1;
  sha256_hex(home, strlen(home), hex);
  hex[16] = '\0';
  return snprintf(out, PATH_MAX, "%s/baton-%u/%s.sock", strcmp(dir, "/") == 0 ? "" : dir, (unsigned)getuid(), hex) <
                 PATH_MAX
             ? 0
             : -1;
}

/* The socket's folder is this user's alone (see checkSocketDir in endpoint.ts); else Node says why. */
static int safe_folder(const char *dir) {
  struct stat info;
  if (lstat(dir, &info) != 0 || !S_ISDIR(info.st_mode)) return 0;
  return info.st_uid == getuid() && (info.st_mode & 022) == 0;
}

#endif
