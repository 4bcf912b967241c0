package identity

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// newKeyring returns a keyring on a freshly generated key file.
func newKeyring(tb testing.TB) (*Keyring, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "secret.key")
	kr, _, err := LoadKeyring(path, true)
	if err != nil {
		tb.Fatalf("load keyring: %v", err)
	}
	return kr, path
}

func currentKeyID(tb testing.TB, kr *Keyring) string {
	tb.Helper()
	id, err := kr.CurrentKeyID()
	if err != nil {
		tb.Fatalf("current key: %v", err)
	}
	return id
}

func TestLoadKeyringGenerates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conf", "secret.key") // directory made too
	kr, generated, err := LoadKeyring(path, true)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !generated {
		t.Errorf("first load: got generated false, want true")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("got key file mode %v, want 0600", mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(b) {
		t.Errorf("got key file %q, want 64 hex digits and a newline", b)
	}
	raw, _ := hex.DecodeString(strings.TrimSpace(string(b)))
	if bytes.Equal(raw, make([]byte, 32)) {
		t.Errorf("generated an all-zero key")
	}
	id := currentKeyID(t, kr)
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(id) {
		t.Errorf("got key id %q, want 8 hex digits", id)
	}
	// No temporary file left behind.
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("got %d files beside the key, want only the key", len(entries))
	}

	for _, generate := range []bool{true, false} {
		again, generated, err := LoadKeyring(path, generate)
		if err != nil {
			t.Fatalf("second load: %v", err)
		}
		if generated {
			t.Errorf("second load (generate %v): got generated true, want false", generate)
		}
		if got := currentKeyID(t, again); got != id {
			t.Errorf("second load: got key %s, want %s", got, id)
		}
		if b2, _ := os.ReadFile(path); !bytes.Equal(b2, b) {
			t.Errorf("second load rewrote the key file")
		}
	}

	// Two generated keys differ.
	other, _ := newKeyring(t)
	if currentKeyID(t, other) == id {
		t.Errorf("two generated keys have the same id %s", id)
	}
}

func TestLoadKeyringMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	if _, _, err := LoadKeyring(path, false); err == nil {
		t.Fatalf("load a missing key without generate: got no error")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file appeared without generate: %v", err)
	}
}

func TestLoadKeyringFormats(t *testing.T) {
	const key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	valid := map[string]string{
		"newline":              key + "\n",
		"no newline":           key,
		"CRLF and spaces":      "  " + key + "\r\n",
		"upper case":           strings.ToUpper(key) + "\n",
		"openssl rand -hex 32": key + "\n",
	}
	for name, content := range valid {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			kr, generated, err := LoadKeyring(path, true)
			if err != nil || generated {
				t.Fatalf("load %q: got generated %v, %v; want false, nil", content, generated, err)
			}
			// Every spelling is the same key: the first 4 bytes of its
			// SHA-256 name it.
			raw, _ := hex.DecodeString(key)
			sum := sha256.Sum256(raw)
			if got, want := currentKeyID(t, kr), hex.EncodeToString(sum[:4]); got != want {
				t.Errorf("got key id %q, want %q", got, want)
			}
		})
	}
	invalid := map[string]string{
		"empty":                    "",
		"63 digits":                key[:63],
		"65 digits":                key + "0",
		"not hex":                  strings.Repeat("zz", 32),
		"two keys":                 key + "\n" + key + "\n",
		"32 raw bytes":             string(make([]byte, 32)),
		"base64":                   "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=",
		"16-byte key (AES-128)":    key[:32],
		"hex with a 0x prefix":     "0x" + key,
		"spaces between the bytes": "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff",
	}
	for name, content := range invalid {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadKeyring(path, true)
			if err == nil {
				t.Fatalf("load %q: got no error", content)
			}
			if !strings.Contains(err.Error(), "64 hex digits") || !strings.Contains(err.Error(), path) {
				t.Errorf("got %q, want it to name the file and ask for 64 hex digits", err)
			}
			// The error never shows what the file holds.
			if len(content) >= 16 && strings.Contains(err.Error(), content[:16]) {
				t.Errorf("error %q repeats the file's content", err)
			}
			// A bad file is never replaced by a generated one.
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Errorf("the malformed key file was rewritten")
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	kr, _ := newKeyring(t)
	id := currentKeyID(t, kr)
	aad := []byte("plaza/identity/1/legal_name")
	plain := []byte("Zhang San 张三")

	s1, err := kr.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := kr.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(s1, s2) {
		t.Errorf("two seals of the same text are equal: the nonce is not fresh")
	}
	if bytes.Contains(s1, plain) || bytes.Contains(s1, []byte("Zhang")) {
		t.Errorf("sealed bytes contain the plaintext")
	}
	// version | key id | nonce | ciphertext | tag
	if len(s1) != 1+4+12+len(plain)+16 || s1[0] != 1 || hex.EncodeToString(s1[1:5]) != id {
		t.Errorf("got sealed %x, want version 1, key %s, 12-byte nonce, ciphertext and 16-byte tag", s1, id)
	}
	if got := sealedKeyID(s1); got != id {
		t.Errorf("sealedKeyID = %q, want %q", got, id)
	}
	for _, s := range [][]byte{s1, s2} {
		got, err := kr.Open(s, aad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("open: got %q, %v; want %q", got, err, plain)
		}
	}
	// Another keyring on the same file opens it too.
	again, _, err := LoadKeyring(kr.path, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(s1, aad); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("open with the key reloaded: got %q, %v; want %q", got, err, plain)
	}

	// The empty text seals and opens.
	empty, err := kr.Seal(nil, aad)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Open(empty, aad); err != nil || len(got) != 0 {
		t.Errorf("open sealed empty text: got %q, %v", got, err)
	}

	flipped := func(i int) []byte {
		b := bytes.Clone(s1)
		b[i] ^= 0x01
		return b
	}
	refused := map[string]struct {
		sealed, aad []byte
	}{
		"wrong row":           {s1, []byte("plaza/identity/2/legal_name")},
		"wrong field":         {s1, []byte("plaza/identity/1/document_number")},
		"no aad":              {s1, nil},
		"flipped nonce bit":   {flipped(6), aad},
		"flipped payload bit": {flipped(20), aad},
		"flipped tag bit":     {flipped(len(s1) - 1), aad},
		"unknown version":     {append([]byte{2}, s1[1:]...), aad},
		"truncated":           {s1[:len(s1)-1], aad},
		"shorter than a tag":  {s1[:20], aad},
		"empty":               {nil, aad},
		"plaintext":           {plain, aad},
	}
	for name, tt := range refused {
		got, err := kr.Open(tt.sealed, tt.aad)
		if !errors.Is(err, ErrDecrypt) || got != nil {
			t.Errorf("open %s: got %q, %v; want nil, ErrDecrypt", name, got, err)
		}
	}
}

func TestOpenSealedByAnotherKey(t *testing.T) {
	kr, _ := newKeyring(t)
	other, _ := newKeyring(t)
	otherID := currentKeyID(t, other)
	aad := []byte("plaza/identity/1/legal_name")
	sealed, err := other.Seal([]byte("Li Si"), aad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kr.Open(sealed, aad)
	if !errors.Is(err, ErrDecrypt) {
		t.Fatalf("got %v, want ErrDecrypt", err)
	}
	if !strings.Contains(err.Error(), otherID) || !strings.Contains(err.Error(), "does not have") {
		t.Errorf("got %q, want it to name the missing key %s", err, otherID)
	}

	// A ciphertext naming this key but sealed with another one is plain
	// ErrDecrypt: the id is only a hint.
	forged := bytes.Clone(sealed)
	id, _ := hex.DecodeString(currentKeyID(t, kr))
	copy(forged[1:5], id)
	if _, err := kr.Open(forged, aad); err != ErrDecrypt {
		t.Errorf("open a ciphertext relabelled with this key's id: got %v, want ErrDecrypt", err)
	}
}

func TestKeyringFollowsRotationOnDisk(t *testing.T) {
	kr, path := newKeyring(t)
	server, _, err := LoadKeyring(path, false) // a running server's keyring
	if err != nil {
		t.Fatal(err)
	}
	oldID := currentKeyID(t, kr)
	aad := []byte("plaza/identity/1/legal_name")
	old, err := server.Seal([]byte("old"), aad)
	if err != nil {
		t.Fatal(err)
	}

	// Step 1: a new key beside the old; the server seals with it at once
	// and opens both.
	nextID, err := kr.beginRotation()
	if err != nil {
		t.Fatal(err)
	}
	if nextID == oldID {
		t.Fatalf("the rotation's key is the old key %s", oldID)
	}
	if st, err := os.Stat(path + ".next"); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("got %s.next %v, %v; want a 0600 file", path, st, err)
	}
	if got := currentKeyID(t, server); got != nextID {
		t.Errorf("server during rotation: got current key %s, want the new %s", got, nextID)
	}
	mid, err := server.Seal([]byte("mid"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if got := sealedKeyID(mid); got != nextID {
		t.Errorf("sealed during rotation with %s, want %s", got, nextID)
	}
	for _, s := range [][]byte{old, mid} {
		if _, err := server.Open(s, aad); err != nil {
			t.Errorf("server during rotation: open %s: %v", sealedKeyID(s), err)
		}
	}
	// beginRotation again resumes with the same key.
	if again, err := kr.beginRotation(); err != nil || again != nextID {
		t.Errorf("beginRotation with .next present: got %s, %v; want %s", again, err, nextID)
	}

	// Step 3: the new key alone.
	retired, err := kr.finishRotation(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := path + ".retired-20260315T120000Z"; !strings.HasPrefix(retired, want) {
		t.Errorf("got retired file %s, want %s…", retired, want)
	}
	if st, err := os.Stat(retired); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("got retired file %v, %v; want a 0600 file", st, err)
	}
	if _, err := os.Stat(path + ".next"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s.next still there after the rotation: %v", path, err)
	}
	for _, k := range []*Keyring{kr, server} {
		if got := currentKeyID(t, k); got != nextID {
			t.Errorf("after rotation: got current key %s, want %s", got, nextID)
		}
		if _, err := k.Open(mid, aad); err != nil {
			t.Errorf("after rotation: open data sealed with the new key: %v", err)
		}
		// Retired keys still open (a straggler sealed just before the
		// rotation must not be lost), but never seal.
		if _, err := k.Open(old, aad); err != nil {
			t.Errorf("after rotation: open data sealed with the retired key %s: %v", oldID, err)
		}
	}
	// The retired file still opens what the old key sealed.
	archive, _, err := LoadKeyring(retired, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := archive.Open(old, aad); err != nil || string(got) != "old" {
		t.Errorf("open with the retired key file: got %q, %v", got, err)
	}
}

// TestFinishRotationKeepsEveryRetiredKey rotates twice within one second
// (easily done: `plaza admin rotate-key` takes milliseconds when few rows
// need re-sealing). Each rotation must keep the key it retires, or backups
// taken before the first rotation can no longer be read.
func TestFinishRotationKeepsEveryRetiredKey(t *testing.T) {
	kr, path := newKeyring(t)
	original, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	var retired []string
	for i := range 2 {
		if _, err := kr.beginRotation(); err != nil {
			t.Fatal(err)
		}
		r, err := kr.finishRotation(now.Add(time.Duration(i) * 100 * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		retired = append(retired, r)
	}
	files, err := filepath.Glob(path + ".retired-*")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range files {
		if b, _ := os.ReadFile(f); bytes.Equal(b, original) {
			found = true
		}
	}
	if !found {
		t.Errorf("after two rotations in one second: the original key is in none of %q (finishRotation returned %q): the second rotation overwrote the first's retired key", files, retired)
	}
	if len(files) != 2 {
		t.Errorf("got %d retired key files, want 2", len(files))
	}
}
