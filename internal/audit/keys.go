package audit

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// Keys holds the HMAC-SHA256 keys that sign the audit chain. They live in
// a file outside the database (beside the identity key), so someone who
// can write to the database alone cannot rewrite history and re-sign it.
//
// The file lists every key ever used, oldest first; the last one signs new
// rows and the others still verify the rows they signed, since each row
// names its key. Rotating appends a key. The file also records how many
// rows the log held when it was created: those rows predate keying and
// carry plain SHA-256 hashes; every later row must be signed.
//
// Keys re-reads the file when it changes, so a rotation by `plaza admin`
// reaches a running server without a restart.
type Keys struct {
	path string

	mu      sync.Mutex
	stamp   string
	legacy  int64
	current string
	keys    map[string][]byte
}

const keysHeader = `# Plaza audit log keys (HMAC-SHA256). The last key signs new rows; the
# others verify the rows they signed: never remove one. Back this file up
# with the identity key and keep it out of the database's reach.
`

// OpenKeys loads the key file at path. With generate set and no file
// there, it creates one (mode 0600) with a fresh key, recording the rows
// db's log holds now as the unsigned legacy prefix, and reports that it
// did.
func OpenKeys(ctx context.Context, db *sqldb.DB, path string, generate bool) (k *Keys, generated bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && generate {
		var seq int64
		if err := db.Read().QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&seq); err != nil {
			return nil, false, fmt.Errorf("audit key: read head: %w", err)
		}
		body := keysHeader + fmt.Sprintf("legacy-rows %d\n", seq) + keyLine(newKey())
		switch err := writeNew(path, body); {
		case errors.Is(err, os.ErrExist):
			// Another process created it first: use theirs.
		case err != nil:
			return nil, false, err
		default:
			generated = true
		}
	}
	k = &Keys{path: path}
	if err := k.reload(); err != nil {
		return nil, false, err
	}
	return k, generated, nil
}

// Rotate adds a new key that signs every row from now on and returns the
// IDs of the previous key and the new one.
func (k *Keys) Rotate() (from, to string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reload(); err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(k.path)
	if err != nil {
		return "", "", fmt.Errorf("audit key: %w", err)
	}
	raw := newKey()
	body := strings.TrimRight(string(b), "\n") + "\n" + keyLine(raw)
	if err := replace(k.path, body); err != nil {
		return "", "", err
	}
	from = k.current
	if err := k.reload(); err != nil {
		return "", "", err
	}
	return from, k.current, nil
}

// Path is the key file's path.
func (k *Keys) Path() string { return k.path }

// signer returns the current key and its ID.
func (k *Keys) signer() (string, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reload(); err != nil {
		return "", nil, err
	}
	return k.current, k.keys[k.current], nil
}

// snapshot returns the legacy prefix and every key by ID.
func (k *Keys) snapshot() (int64, map[string][]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reload(); err != nil {
		return 0, nil, err
	}
	return k.legacy, k.keys, nil
}

func newKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

// keyID names a key by the first 4 bytes of its SHA-256, as the identity
// keyring does.
func keyID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

func keyLine(raw []byte) string {
	return "key " + keyID(raw) + " " + hex.EncodeToString(raw) + "\n"
}

func (k *Keys) reload() error {
	st, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	stamp := fmt.Sprintf("%d@%d", st.Size(), st.ModTime().UnixNano())
	if stamp == k.stamp {
		return nil
	}
	f, err := os.Open(k.path)
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	defer f.Close()
	bad := func(line int, why string) error {
		return fmt.Errorf("audit key file %s line %d: %s", k.path, line, why)
	}
	legacy, current, keys := int64(-1), "", map[string][]byte{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case fields[0] == "legacy-rows" && len(fields) == 2:
			if legacy, err = strconv.ParseInt(fields[1], 10, 64); err != nil || legacy < 0 {
				return bad(n, "legacy-rows needs a row count")
			}
		case fields[0] == "key" && len(fields) == 3:
			raw, err := hex.DecodeString(fields[2])
			if err != nil || len(raw) != 32 || keyID(raw) != fields[1] {
				return bad(n, "want `key ID HEX` with 64 hex digits whose ID matches")
			}
			keys[fields[1]], current = raw, fields[1]
		default:
			return bad(n, "want `legacy-rows N` or `key ID HEX`")
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	if legacy < 0 || current == "" {
		return fmt.Errorf("audit key file %s: needs a legacy-rows line and at least one key", k.path)
	}
	k.legacy, k.current, k.keys, k.stamp = legacy, current, keys, stamp
	return nil
}

// writeNew creates path with body, mode 0600, failing with os.ErrExist if
// it is already there (two processes starting at once keep one key).
func writeNew(path, body string) error {
	tmp, err := writeTemp(path, body)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return err
		}
		return fmt.Errorf("audit key: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// replace swaps path's contents for body atomically.
func replace(path, body string) error {
	tmp, err := writeTemp(path, body)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("audit key: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes body to a synced 0600 temporary file beside path.
func writeTemp(path, body string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("audit key: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".audit-key-*")
	if err != nil {
		return "", fmt.Errorf("audit key: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return "", fmt.Errorf("audit key: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		return "", fmt.Errorf("audit key: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("audit key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("audit key: %w", err)
	}
	ok = true
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
