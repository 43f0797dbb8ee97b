/* Growable text, JSON strings written, and the few replies of the supervisor read: the native client's
 * side of src/protocol (one JSON object a line). */
#ifndef BATON_JSON_H
#define BATON_JSON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *data;
  size_t size, room;
} Text;

/* Appends; 0 on success, -1 when out of memory. */
static int text_put(Text *text, const char *data, size_t size) {
  if (text->size + size + 1 > text->room) {
    size_t room = text->room ? text->room : 256;
    while (room < text->size + size + 1) room *= 2;
    char *grown = realloc(text->data, room);
    if (!grown) return -1;
    text->data = grown;
    text->room = room;
  }
  memcpy(text->data + text->size, data, size);
  text->size += size;
  text->data[text->size] = '\0';
  return 0;
}

static int text_printf(Text *text, const char *format, ...) {
  char small[512];
  va_list args;
  va_start(args, format);
  int size = vsnprintf(small, sizeof small, format, args);
  va_end(args);
  if (size < 0) return -1;
  if ((size_t)size < sizeof small) return text_put(text, small, (size_t)size);
  char *big = malloc((size_t)size + 1);
  if (!big) return -1;
  va_start(args, format);
  vsnprintf(big, (size_t)size + 1, format, args);
  va_end(args);
  int done = text_put(text, big, (size_t)size);
  free(big);
  return done;
}

/* `data` as a JSON string: quotes, backslashes and control characters escaped; other bytes as they are. */
static int json_string(Text *text, const char *data, size_t size) {
  int failed = text_put(text, "\"", 1);
  size_t plain = 0;
  for (size_t i = 0; i < size; i++) {
    unsigned char c = (unsigned char)data[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    failed |= text_put(text, data + plain, i - plain);
    char escaped[8];
    if (c == '"' || c == '\\') snprintf(escaped, sizeof escaped, "\\%c", c);
    else snprintf(escaped, sizeof escaped, "\\u%04x", c);
    failed |= text_put(text, escaped, strlen(escaped));
    plain = i + 1;
  }
  failed |= text_put(text, data + plain, size - plain);
  return failed | text_put(text, "\"", 1);
}

/* What the client reads of a reply: `{id, ok, result: {exit | fallback}}`, `{id, ok: false, error:
 * {message}}`, or output before the reply, `{id, out}` or `{id, err}`. */
typedef struct {
  long id;
  int ok, failed, has_exit, fallback;
  long exit;
  Text out, err, message;
} Message;

static void text_free_message(Message *message) {
  free(message->out.data);
  free(message->err.data);
  free(message->message.data);
}

typedef struct {
  const char *at, *end;
} Cursor;

static void json_space(Cursor *c) {
  while (c->at < c->end && (*c->at == ' ' || *c->at == '\t' || *c->at == '\r' || *c->at == '\n')) c->at++;
}

static int json_hex4(Cursor *c, unsigned *value) {
  if (c->end - c->at < 4) return -1;
  *value = 0;
  for (int i = 0; i < 4; i++) {
    char h = *c->at++;
    *value = *value * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                                             : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                                                    : 99);
    if (*value > 0xffff) return -1;
  }
  return 0;
}

static void utf8_put(Text *text, unsigned code) {
  char bytes[4];
  size_t n;
  if (code < 0x80) bytes[0] = (char)code, n = 1;
  else if (code < 0x800) bytes[0] = (char)(0xc0 | code >> 6), bytes[1] = (char)(0x80 | (code & 63)), n = 2;
  else if (code < 0x10000)
    bytes[0] = (char)(0xe0 | code >> 12), bytes[1] = (char)(0x80 | (code >> 6 & 63)), bytes[2] = (char)(0x80 | (code & 63)),
    n = 3;
  else
    bytes[0] = (char)(0xf0 | code >> 18), bytes[1] = (char)(0x80 | (code >> 12 & 63)),
    bytes[2] = (char)(0x80 | (code >> 6 & 63)), bytes[3] = (char)(0x80 | (code & 63)), n = 4;
  text_put(text, bytes, n);
}

/* Reads a JSON string into `into` (UTF-8), or only past it when `into` is NULL. */
static int json_read_string(Cursor *c, Text *into) {
  if (c->at >= c->end || *c->at != '"') return -1;
  c->at++;
  while (c->at < c->end) {
    const char *plain = c->at;
    while (c->at < c->end && *c->at != '"' && *c->at != '\\') c->at++;
    if (into && c->at > plain) text_put(into, plain, (size_t)(c->at - plain));
    if (c->at >= c->end) return -1;
    if (*c->at++ == '"') return 0;
    if (c->at >= c->end) return -1;
    char e = *c->at++;
    unsigned code;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      static const char meaning[] = "\"\\/\b\f\n\r\t";
      if (into) text_put(into, &meaning[simple - "\"\\/bfnrt"], 1);
      continue;
    }
    if (e != 'u' || json_hex4(c, &code) != 0) return -1;
    if (code >= 0xd800 && code < 0xdc00 && c->end - c->at >= 6 && c->at[0] == '\\' && c->at[1] == 'u') {
      Cursor low = {c->at + 2, c->end};
      unsigned second;
      if (json_hex4(&low, &second) == 0 && second >= 0xdc00 && second < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (second - 0xdc00);
        c->at = low.at;
      }
    }
    if (code >= 0xd800 && code < 0xe000) code = 0xfffd; /* a lone surrogate, as Node writes it out */
    if (into) utf8_put(into, code);
  }
  return -1;
}

static int json_skip(Cursor *c, int depth);

/* Calls `field` for each member of an object; `field` reads or skips the value. */
typedef int (*Field)(Cursor *c, const Text *key, Message *message, int depth);

static int json_object(Cursor *c, Message *message, Field field, int depth) {
  if (depth > 64) return -1;
  json_space(c);
  if (c->at >= c->end || *c->at != '{') return -1;
  c->at++;
  json_space(c);
  if (c->at < c->end && *c->at == '}') return c->at++, 0;
  for (;;) {
    Text key = {0};
    json_space(c);
    int bad = json_read_string(c, &key);
    json_space(c);
    bad = bad || c->at >= c->end || *c->at++ != ':';
    json_space(c);
    bad = bad || (field ? field(c, &key, message, depth) : json_skip(c, depth));
    free(key.data);
    if (bad) return -1;
    json_space(c);
    if (c->at >= c->end) return -1;
    char next = *c->at++;
    if (next == '}') return 0;
    if (next != ',') return -1;
  }
}

static int json_skip(Cursor *c, int depth) {
  json_space(c);
  if (c->at >= c->end) return -1;
  if (*c->at == '"') return json_read_string(c, NULL);
  if (*c->at == '{') return json_object(c, NULL, NULL, depth + 1);
  if (*c->at == '[') {
    c->at++;
    json_space(c);
    if (c->at < c->end && *c->at == ']') return c->at++, 0;
    for (;;) {
      if (json_skip(c, depth + 1) != 0) return -1;
      json_space(c);
      if (c->at >= c->end) return -1;
      char next = *c->at++;
      if (next == ']') return 0;
      if (next != ',') return -1;
    }
  }
  const char *start = c->at;
  while (c->at < c->end && strchr(",}] \t\r\n", *c->at) == NULL) c->at++;
  return c->at > start ? 0 : -1;
}

static int json_number(Cursor *c, long *value) {
  char *after;
  *value = strtol(c->at, &after, 10);
  if (after == c->at || after > c->end) return -1;
  c->at = after;
  while (c->at < c->end && strchr("0123456789.eE+-", *c->at)) c->at++; /* a fraction or exponent: passed over */
  return 0;
}

static int is_key(const Text *key, const char *name) { return key->size == strlen(name) && memcmp(key->data, name, key->size) == 0; }

static int result_field(Cursor *c, const Text *key, Message *m, int depth) {
  if (is_key(key, "exit")) return m->has_exit = 1, json_number(c, &m->exit);
  if (is_key(key, "fallback")) m->fallback = 1;
  return json_skip(c, depth + 1);
}

static int error_field(Cursor *c, const Text *key, Message *m, int depth) {
  if (is_key(key, "message")) return json_read_string(c, &m->message);
  return json_skip(c, depth + 1);
}

static int message_field(Cursor *c, const Text *key, Message *m, int depth) {
  if (is_key(key, "id")) return json_number(c, &m->id);
  if (is_key(key, "ok")) {
    m->ok = c->end - c->at >= 4 && memcmp(c->at, "true", 4) == 0;
    return json_skip(c, depth + 1);
  }
  if (is_key(key, "out")) return json_read_string(c, &m->out);
  if (is_key(key, "err")) return json_read_string(c, &m->err);
  if (is_key(key, "result") && c->at < c->end && *c->at == '{') return json_object(c, m, result_field, depth + 1);
  if (is_key(key, "error")) return m->failed = 1, json_object(c, m, error_field, depth + 1);
  return json_skip(c, depth + 1);
}

/* Reads one line of the supervisor's; 0 on success. */
static int json_message(const char *line, size_t size, Message *message) {
  memset(message, 0, sizeof *message);
  message->id = -1;
  Cursor c = {line, line + size};
  if (json_object(&c, message, message_field, 0) != 0) return -1;
  json_space(&c);
  return c.at == c.end ? 0 : -1;
}

#endif
