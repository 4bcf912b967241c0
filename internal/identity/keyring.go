package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Keyring holds the AES-256 keys that seal legal identities at rest. The
// key lives in a file the operator provides (or one generated at first
// start). During a rotation a second file, PATH.next, holds the new key:
// while it exists, new data is sealed with it and both keys open old data.
//
// The keyring re-reads its files when they change, so `plaza admin
// rotate-key` takes effect in a running server without a restart.
type Keyring struct {
	path string

	mu      sync.Mutex
	stamp   string // size and mtime of both files when last loaded
	current key
	keys    map[string]key
}

type key struct {
	id   string // first 4 bytes of SHA-256(key), hex: names the key in each ciphertext
	aead cipher.AEAD
}

// ErrDecrypt is returned when a ciphertext does not open: wrong key, or
// sealed for another row or field (the row identity is bound as associated
// data, so a ciphertext copied elsewhere fails here).
var ErrDecrypt = errors.New("sealed data does not open with this key for this row: it was altered, moved from another row, or sealed with a key that is gone")

// keyFileLen is the hex encoding of 32 bytes.
const keyFileLen = 64

// LoadKeyring opens the key file at path. With generate set and no file
// there, it creates one with a fresh random key (mode 0600) and reports
// that it did.
func LoadKeyring(path string, generate bool) (kr *Keyring, generated bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && generate {
		if err := writeKeyFile(path, newKeyBytes()); err != nil {
			return nil, false, err
		}
		generated = true
	}
	kr = &Keyring{path: path}
	if err := kr.reload(); err != nil {
		return nil, false, err
	}
	return kr, generated, nil
}

func newKeyBytes() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

// writeKeyFile writes a key atomically (temp file, fsync, rename) with
// mode 0600.
func writeKeyFile(path string, k []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*")
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("secret key: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("secret key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("secret key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readKeyFile(path string) (key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return key{}, fmt.Errorf("secret key: %w", err)
	}
	s := strings.TrimSpace(string(b))
	raw, err := hex.DecodeString(s)
	if err != nil || len(s) != keyFileLen {
		return key{}, fmt.Errorf("secret key %s: want 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`", path)
	}
	return newKey(raw)
}

func newKey(raw []byte) (key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	sum := sha256.Sum256(raw)
	return key{id: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

func fileStamp(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "-"
	}
	return fmt.Sprintf("%d@%d", st.Size(), st.ModTime().UnixNano())
}

// reload re-reads the key files if they changed since the last load.
//
// A rotation renames PATH.next over PATH while a server may be reading
// them, so a read can see half of it: PATH still old but PATH.next already
// gone, which would seal with the retired key after the rotation's last
// re-sealing pass. A read counts only if the files' stamp is the same
// before and after it; otherwise it is done again.
func (kr *Keyring) reload() error {
	for attempt := 0; ; attempt++ {
		stamp := kr.fileStamps()
		if stamp == kr.stamp {
			return nil
		}
		cur, keys, err := kr.readFiles()
		settled := kr.fileStamps() == stamp
		if !settled && attempt < 20 {
			continue // the files changed while being read
		}
		if err != nil {
			return err
		}
		if !settled {
			return errors.New("secret key: the key files keep changing; try again")
		}
		kr.current, kr.keys, kr.stamp = cur, keys, stamp
		return nil
	}
}

// fileStamps identifies the current state of the key files.
func (kr *Keyring) fileStamps() string {
	retired, _ := filepath.Glob(kr.path + ".retired-*")
	return fileStamp(kr.path) + "|" + fileStamp(kr.path+".next") + "|" + strings.Join(retired, ",")
}

// readFiles reads the key to seal with (PATH.next during a rotation, else
// PATH) and every key that opens.
func (kr *Keyring) readFiles() (key, map[string]key, error) {
	cur, err := readKeyFile(kr.path)
	if err != nil {
		return key{}, nil, err
	}
	keys := map[string]key{cur.id: cur}
	// Retired keys stay on disk for old backups; they also open data a
	// writer sealed just before a rotation and stored just after it, so
	// such a row is re-sealed by the next rotation instead of being lost.
	retired, _ := filepath.Glob(kr.path + ".retired-*")
	for _, f := range retired {
		if k, err := readKeyFile(f); err == nil {
			keys[k.id] = k
		}
	}
	if _, err := os.Stat(kr.path + ".next"); err == nil {
		next, err := readKeyFile(kr.path + ".next")
		if err != nil {
			return key{}, nil, err
		}
		keys[next.id] = next
		cur = next
	}
	return cur, keys, nil
}

// ring returns the key to seal with and the keys that open, refreshed from
// disk if the files changed.
func (kr *Keyring) ring() (key, map[string]key, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if err := kr.reload(); err != nil {
		return key{}, nil, err
	}
	return kr.current, kr.keys, nil
}

// CurrentKeyID names the key new data is sealed with.
func (kr *Keyring) CurrentKeyID() (string, error) {
	k, _, err := kr.ring()
	return k.id, err
}

// sealed layout: version (1) | key id (4) | nonce (12) | ciphertext+tag.
const sealVersion = 1

// Seal encrypts plaintext with AES-256-GCM under the current key, binding
// aad (the row and field it belongs to).
func (kr *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	k, _, err := kr.ring()
	if err != nil {
		return nil, err
	}
	return k.seal(plaintext, aad), nil
}

func (k key) seal(plaintext, aad []byte) []byte {
	id, _ := hex.DecodeString(k.id)
	out := make([]byte, 0, 1+4+12+len(plaintext)+16)
	out = append(out, sealVersion)
	out = append(out, id...)
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad)
}

// Open decrypts what Seal produced for the same aad.
func (kr *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	_, keys, err := kr.ring()
	if err != nil {
		return nil, err
	}
	return open(keys, sealed, aad)
}

func open(keys map[string]key, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+4+12+16 || sealed[0] != sealVersion {
		return nil, ErrDecrypt
	}
	id := hex.EncodeToString(sealed[1:5])
	k, ok := keys[id]
	if !ok {
		return nil, fmt.Errorf("sealed with key %s, which this server does not have: %w", id, ErrDecrypt)
	}
	pt, err := k.aead.Open(nil, sealed[5:17], sealed[17:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// sealedKeyID returns the key ID a ciphertext names.
func sealedKeyID(sealed []byte) string {
	if len(sealed) < 5 {
		return ""
	}
	return hex.EncodeToString(sealed[1:5])
}

// beginRotation writes a fresh key to PATH.next; from then on the keyring
// (here and in any running server) seals with it.
func (kr *Keyring) beginRotation() (string, error) {
	if _, err := os.Stat(kr.path + ".next"); err == nil {
		// A rotation was interrupted: finish it with the key it started.
		k, err := readKeyFile(kr.path + ".next")
		return k.id, err
	}
	raw := newKeyBytes()
	if err := writeKeyFile(kr.path+".next", raw); err != nil {
		return "", err
	}
	k, err := newKey(raw)
	return k.id, err
}

// finishRotation makes the new key the only key: PATH.next replaces PATH.
// The old key is kept beside it as PATH.retired-TIMESTAMP so that backups
// taken before the rotation stay readable; delete it when those backups
// expire.
func (kr *Keyring) finishRotation(now time.Time) (retired string, err error) {
	oldKey, err := readKeyFile(kr.path)
	if err != nil {
		return "", err
	}
	retired = fmt.Sprintf("%s.retired-%s-%s", kr.path, now.UTC().Format("20060102T150405Z"), oldKey.id)
	old, err := os.ReadFile(kr.path)
	if err != nil {
		return "", err
	}
	// O_EXCL: never overwrite a retired key, whatever the clock says.
	f, err := os.OpenFile(retired, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(old); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(kr.path+".next", kr.path); err != nil {
		return "", err
	}
	if err := syncDir(filepath.Dir(kr.path)); err != nil {
		return "", err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	return retired, kr.reload()
}
