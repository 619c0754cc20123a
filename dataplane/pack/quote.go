package main

import (
	"fmt"
	"strings"
)

var letterEscapes = map[byte]string{7: `\a`, 8: `\b`, 9: `\t`, 10: `\n`, 11: `\v`, 12: `\f`, 13: `\r`}

// quoteName quotes a name as GNU tar's messages do under LC_ALL=C and --quoting-style=escape:
// printable ASCII as itself but '\' and ':' (a message's separator) escaped, control characters
// by letter, every other byte in octal. dataplane/snapshot/tar-messages.ts reads it back.
func quoteName(name string) string { return escaped(name, true) }

// listedName quotes a name as tar's listing does (`tar -t --quoting-style=escape`, and -v's): as
// in its messages, but ':' as itself. tar-messages.ts's quoteTarName quotes the same way.
func listedName(name string) string { return escaped(name, false) }

func escaped(name string, colon bool) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == ':' && colon:
			b.WriteString(`\:`)
		case letterEscapes[c] != "":
			b.WriteString(letterEscapes[c])
		case c >= 0x20 && c <= 0x7e:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\%03o`, c)
		}
	}
	return b.String()
}
