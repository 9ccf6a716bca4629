/*
 * utf8.h — UTF-8 validation (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
 */
#ifndef KT_UTF8_H
#define KT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence starting at s (n bytes available), or 0. */
size_t utf8_seq(const unsigned char *s, size_t n);

/*
 * What is wrong with the sequence at s (n bytes available) that utf8_seq
 * refused, in words, into out (cap bytes); returns 1 when the sequence is
 * only cut short by the end of the text (its bytes so far are right).
 */
int utf8_problem(const unsigned char *s, size_t n, char *out, size_t cap);

/* 1 when s[0..n) is valid UTF-8 with no NUL byte, else 0. */
int utf8_valid_text(const uint8_t *s, size_t n);

/* The length of the longest valid UTF-8 prefix of s[0..n) (NUL bytes allowed): n when it is all valid. */
size_t utf8_valid_prefix(const char *s, size_t n);

/* Appends s[0..n) to b with every byte that is not part of valid UTF-8 replaced by U+FFFD. */
struct kbuf;
void utf8_repair(struct kbuf *b, const char *s, size_t n);

/* UTF-16 code units of the UTF-8 text s[0..n): how AWS counts a string's length. */
size_t utf8_utf16_len(const char *s, size_t n);

#endif
