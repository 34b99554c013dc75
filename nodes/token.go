package nodes

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenFileName is the name of the cluster token file in a node's data
// directory.
const TokenFileName = "cluster.token"

// ErrNoToken: a node that joins a cluster was given no token.
var ErrNoToken = errors.New("no cluster token")

// loadToken finds the cluster token (see Config.Token): the explicit one,
// else TokenFile, else DataDir/cluster.token, else, when create is set, a
// new random one. An explicit token is stored in the data directory.
func loadToken(c Config, create bool) (tok string, created bool, err error) {
	stored := ""
	if c.DataDir != "" {
		stored = filepath.Join(c.DataDir, TokenFileName)
	}
	switch {
	case c.Token != "":
		tok = c.Token
	case c.TokenFile != "":
		if tok, err = readToken(c.TokenFile); err != nil {
			return "", false, err
		}
	case stored != "":
		tok, err = readToken(stored)
		if err == nil {
			return tok, false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", false, err
		}
		if !create {
			return "", false, fmt.Errorf("%w: joining a cluster needs its token: pass --token or --token-file, or copy %s from a node of the cluster to %s", ErrNoToken, TokenFileName, stored)
		}
		var b [32]byte
		rand.Read(b[:])
		tok, created = hex.EncodeToString(b[:]), true
	default:
		return "", false, nil
	}
	if err := checkToken(tok); err != nil {
		return "", false, err
	}
	if stored != "" {
		if old, err := readToken(stored); err != nil || old != tok {
			if err := writeToken(stored, tok); err != nil {
				return "", false, err
			}
		}
	}
	return tok, created, nil
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := bufio.NewReader(bytes.NewReader(b)).ReadLine()
	tok := strings.TrimSpace(string(line))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, checkToken(tok)
}

func writeToken(path, tok string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// checkToken refuses tokens that would be weak or break a URL.
func checkToken(tok string) error {
	if len(tok) < 16 {
		return errors.New("the cluster token is too short (16 characters at least)")
	}
	for _, r := range tok {
		if r <= ' ' || r > '~' {
			return errors.New("the cluster token must be printable ASCII without spaces")
		}
	}
	return nil
}
