package wave

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tPunct          // one of { } ( ) [ ] : ,
	tNumber         // a number literal, or -inf
	tLabel          // a label or keyword, with or without %
	tChar           // a char literal
	tString         // a string literal, single or multiline
)

// token is a lexed token. Only the fields of its kind are set.
type token struct {
	kind     tokKind
	pos, end int    // byte offsets of the token in the input
	text     string // the token as written
	punct    byte   // tPunct
	isInt    bool   // tNumber: no fraction or exponent
	label    string // tLabel, without %
	pct      bool   // tLabel written with %
	r        rune   // tChar
	s        string // tString, decoded
}

func (t token) is(p byte) bool { return t.kind == tPunct && t.punct == p }

// keyword reports whether t is the unescaped keyword kw.
func (t token) keyword(kw string) bool { return t.kind == tLabel && !t.pct && t.label == kw }

// isKeyword reports whether t is an unescaped keyword.
func (t token) isKeyword() bool { return t.kind == tLabel && !t.pct && isKeyword(t.label) }

// describe names t for "got …" in messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string " + quote(shorten(t.s, 30), '"')
	case tChar:
		return "char " + quote(string(t.r), '\'')
	case tPunct:
		switch t.punct {
		case '[':
			return "list"
		case '(':
			return "tuple"
		case '{':
			return "record or flags"
		}
	}
	return strconv.Quote(shorten(t.text, 30))
}

// lexer splits WAVE text into tokens, one token of lookahead.
type lexer struct {
	src    string
	off    int
	peeked bool
	tok    token
}

func (l *lexer) errorf(off int, format string, args ...any) *Error {
	return newError(l.src, off, fmt.Sprintf(format, args...))
}

// peek returns the next token without consuming it.
func (l *lexer) peek() (token, error) {
	if !l.peeked {
		t, err := l.lex()
		if err != nil {
			return t, err
		}
		l.tok, l.peeked = t, true
	}
	return l.tok, nil
}

// next consumes and returns the next token.
func (l *lexer) next() (token, error) {
	t, err := l.peek()
	l.peeked = false
	return t, err
}

func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		switch c := l.src[l.off]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.off++
		case c == '/' && strings.HasPrefix(l.src[l.off:], "//"):
			if i := strings.IndexByte(l.src[l.off:], '\n'); i >= 0 {
				l.off += i + 1
			} else {
				l.off = len(l.src)
			}
		default:
			return
		}
	}
}

func (l *lexer) lex() (token, error) {
	l.skipSpace()
	start := l.off
	if start == len(l.src) {
		return token{kind: tEOF, pos: start, end: start}, nil
	}
	var t token
	var err error
	switch c := l.src[start]; {
	case strings.IndexByte("{}()[]:,", c) >= 0:
		t, l.off = token{kind: tPunct, punct: c}, start+1
	case c == '-' || isDigit(c):
		t, err = l.lexNumber()
	case c == '%' || isLetter(c):
		t, err = l.lexLabel()
	case c == '\'':
		t, err = l.lexChar()
	case c == '"':
		if strings.HasPrefix(l.src[start:], `"""`) {
			t, err = l.lexMultiline()
		} else {
			t, err = l.lexString()
		}
	default:
		r, _ := utf8.DecodeRuneInString(l.src[start:])
		return token{}, l.errorf(start, "unexpected character %q", r)
	}
	if err != nil {
		return token{}, err
	}
	t.pos, t.end, t.text = start, l.off, l.src[start:l.off]
	return t, nil
}

// wordEnd returns the end of the run of label-like characters from i.
func (l *lexer) wordEnd(i int) int {
	for i < len(l.src) {
		c := l.src[i]
		if !isLetter(c) && !isDigit(c) && c != '-' && c != '_' {
			break
		}
		i++
	}
	return i
}

func (l *lexer) lexNumber() (token, error) {
	start := l.off
	// Take the whole run a number could be confused with, so that 01,
	// 0x1f, 1.5.2 and -infinity are one bad token rather than several.
	i := start
	if l.src[i] == '-' {
		i++
	}
	for i < len(l.src) {
		c := l.src[i]
		if isLetter(c) || isDigit(c) || c == '_' || c == '.' ||
			(c == '-' || c == '+') && (l.src[i-1] == 'e' || l.src[i-1] == 'E') {
			i++
			continue
		}
		break
	}
	text := l.src[start:i]
	isInt, ok := scanNumber(text)
	if !ok {
		switch {
		case text == "-nan":
			return token{}, l.errorf(start, "invalid number %q: nan has no sign", text)
		case strings.ContainsAny(text, "xXbBoO") && strings.HasPrefix(strings.TrimPrefix(text, "-"), "0"):
			return token{}, l.errorf(start, "invalid number %q: numbers are written in decimal", shorten(text, 30))
		}
		return token{}, l.errorf(start, "invalid number %q", shorten(text, 30))
	}
	l.off = i
	return token{kind: tNumber, isInt: isInt}, nil
}

// scanNumber reports whether s is a WAVE number,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? or -inf, and whether it
// is an integer (no fraction or exponent).
func scanNumber(s string) (isInt, ok bool) {
	if s == "-inf" {
		return false, true
	}
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false, false
	}
	isInt = true
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false, false
		}
		isInt = false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false, false
		}
		isInt = false
	}
	return isInt, i == len(s)
}

func (l *lexer) lexLabel() (token, error) {
	start := l.off
	i := start
	pct := l.src[i] == '%'
	if pct {
		i++
	}
	end := l.wordEnd(i)
	label := l.src[i:end]
	if problem := labelProblem(label); problem != "" {
		if label == "" {
			return token{}, l.errorf(start, "%% must be followed by a label")
		}
		return token{}, l.errorf(start, "invalid label %q: %s", shorten(l.src[start:end], 30), problem)
	}
	l.off = end
	return token{kind: tLabel, label: label, pct: pct}, nil
}

func (l *lexer) lexChar() (token, error) {
	start := l.off
	i := start + 1
	if i >= len(l.src) {
		return token{}, l.errorf(start, "unterminated char literal")
	}
	var r rune
	var size int
	switch c := l.src[i]; c {
	case '\'':
		if strings.HasPrefix(l.src[i:], "''") {
			return token{}, l.errorf(start, `a ' char must be escaped: '\''`)
		}
		return token{}, l.errorf(start, "empty char literal")
	case '\n':
		return token{}, l.errorf(i, `line break in char literal (write '\n')`)
	case '\\':
		var msg string
		r, size, msg = unescape(l.src[i:])
		if msg != "" {
			return token{}, l.errorf(i, "%s", msg)
		}
	default:
		r, size = utf8.DecodeRuneInString(l.src[i:])
	}
	i += size
	if i < len(l.src) && l.src[i] == '\'' {
		l.off = i + 1
		return token{kind: tChar, r: r}, nil
	}
	line := l.src[i:]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	if strings.Contains(line, "'") {
		return token{}, l.errorf(start, "char literal must hold exactly one character")
	}
	return token{}, l.errorf(start, "unterminated char literal")
}

func (l *lexer) lexString() (token, error) {
	start := l.off
	var b strings.Builder
	for i := start + 1; i < len(l.src); {
		j := i + strings.IndexAny(l.src[i:], "\"\\\n")
		if j < i {
			break
		}
		b.WriteString(l.src[i:j])
		switch l.src[j] {
		case '"':
			l.off = j + 1
			return token{kind: tString, s: b.String()}, nil
		case '\n':
			return token{}, l.errorf(j, `line break in string (write \n, or use a """ multiline string)`)
		}
		r, size, msg := unescape(l.src[j:])
		if msg != "" {
			return token{}, l.errorf(j, "%s", msg)
		}
		b.WriteRune(r)
		i = j + size
	}
	return token{}, l.errorf(start, "unterminated string")
}

func (l *lexer) lexMultiline() (token, error) {
	start := l.off
	cs := start + 3
	n := strings.Index(l.src[cs:], `"""`)
	if n < 0 {
		return token{}, l.errorf(start, `unterminated multiline string (no closing """)`)
	}
	ce := cs + n
	content := l.src[cs:ce]
	var k int
	switch {
	case strings.HasPrefix(content, "\n"):
		k = 1
	case strings.HasPrefix(content, "\r\n"):
		k = 2
	default:
		return token{}, l.errorf(cs, `opening """ must be followed immediately by a line break`)
	}
	rest, base := content[k:], cs+k
	body, indent := "", rest
	hasBody := false
	if last := strings.LastIndexByte(rest, '\n'); last >= 0 {
		body, indent, hasBody = rest[:last], rest[last+1:], true
	}
	if strings.Trim(indent, " ") != "" {
		return token{}, l.errorf(ce, `closing """ must be on its own line, after nothing but spaces`)
	}
	var b strings.Builder
	if hasBody {
		off := base
		for n := 0; ; n++ {
			line, more := body, false
			if j := strings.IndexByte(body, '\n'); j >= 0 {
				line, body, more = body[:j], body[j+1:], true
			}
			if !strings.HasPrefix(line, indent) {
				return token{}, l.errorf(off, `line is indented less than the closing """ (%d spaces)`, len(indent))
			}
			if n > 0 {
				b.WriteByte('\n')
			}
			lineOff := off + len(indent)
			text := strings.TrimSuffix(line[len(indent):], "\r")
			for i := 0; i < len(text); {
				j := strings.IndexByte(text[i:], '\\')
				if j < 0 {
					b.WriteString(text[i:])
					break
				}
				b.WriteString(text[i : i+j])
				i += j
				r, size, msg := unescape(text[i:])
				if msg != "" {
					return token{}, l.errorf(lineOff+i, "%s", msg)
				}
				b.WriteRune(r)
				i += size
			}
			off += len(line) + 1
			if !more {
				break
			}
		}
	}
	l.off = ce + 3
	return token{kind: tString, s: b.String()}, nil
}

// unescape decodes the escape sequence at the start of s (which starts
// with a backslash), returning the character and the length of the
// sequence, or a message saying what is wrong.
func unescape(s string) (r rune, size int, msg string) {
	if len(s) < 2 {
		return 0, 0, `invalid escape: \ at end of input`
	}
	switch s[1] {
	case '\n', '\r':
		return 0, 0, `invalid escape: \ at end of line`
	case '\\':
		return '\\', 2, ""
	case '\'':
		return '\'', 2, ""
	case '"':
		return '"', 2, ""
	case 't':
		return '\t', 2, ""
	case 'n':
		return '\n', 2, ""
	case 'r':
		return '\r', 2, ""
	case 'u':
		if len(s) < 3 || s[2] != '{' {
			return 0, 0, `invalid escape \u: write \u{hex}, as in \u{1F600}`
		}
		// Look no further than a few characters, so that a long input
		// with many escapes stays linear.
		w := s[:min(len(s), 20)]
		if j := strings.IndexAny(w, "\n\"'"); j >= 0 {
			w = w[:j]
		}
		end := strings.IndexByte(w, '}')
		if end < 0 {
			return 0, 0, `invalid escape \u{: missing }`
		}
		hex, esc := s[3:end], s[:end+1]
		if hex == "" {
			return 0, 0, fmt.Sprintf("invalid escape %s: no hex digits", esc)
		}
		if len(hex) > 6 {
			return 0, 0, fmt.Sprintf("invalid escape %s: more than 6 hex digits", esc)
		}
		v, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			return 0, 0, fmt.Sprintf("invalid escape %s: %q is not hexadecimal", esc, hex)
		}
		switch {
		case v >= 0xD800 && v <= 0xDFFF:
			return 0, 0, fmt.Sprintf("invalid escape %s: a surrogate is not a Unicode scalar value", esc)
		case v > 0x10FFFF:
			return 0, 0, fmt.Sprintf("invalid escape %s: beyond U+10FFFF, the largest Unicode scalar value", esc)
		}
		return rune(v), end + 1, ""
	}
	c, _ := utf8.DecodeRuneInString(s[1:])
	return 0, 0, fmt.Sprintf(`invalid escape \%c: valid escapes are \\ \' \" \t \n \r \u{hex}`, c)
}
