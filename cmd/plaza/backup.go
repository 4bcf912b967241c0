package main

// plaza admin backup and plaza admin restore: a consistent copy of a
// running SQLite server's database, file media and keys, and putting
// one back into a new data directory.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// The layout of a backup directory. Keys are renamed to their default
// names (secret.key, audit.key) so that restore can put them where a
// server started with only --data looks for them.
const (
	manifestName   = "manifest.json"
	manifestFormat = 1
	backupDBName   = "plaza.db"
	backupMediaDir = "media"
	backupKeysDir  = "keys"
	secretKeyName  = "secret.key"
	auditKeyName   = "audit.key"

	// maxManifest bounds what restore reads as the manifest: a million
	// media files take about 200 MB of it.
	maxManifest = 1 << 30
)

// The kinds of files a manifest lists.
const (
	kindDatabase = "database"
	kindMedia    = "media"
	kindKey      = "key"
)

const keyWarning = `
************************************************************************
*  WARNING: this backup holds the server's KEYS.                       *
*  secret.key decrypts every stored legal identity and audit.key       *
*  signs the audit log. Anyone who reads this backup can decrypt the   *
*  identities and forge audit entries. Store it as securely as the     *
*  live server (encrypted, access-controlled), and if you can apart    *
*  from your ordinary backups.                                         *
************************************************************************
`

// manifest describes a backup directory; restore trusts nothing in the
// directory that it does not list with a size and SHA-256.
type manifest struct {
	Format        int            `json:"format"`
	CreatedAt     time.Time      `json:"created_at"`
	Version       string         `json:"version"`
	Engine        string         `json:"engine"`
	SchemaVersion int64          `json:"schema_version"`
	Media         string         `json:"media"`
	MissingMedia  []string       `json:"missing_media,omitempty"`
	Files         []manifestFile `json:"files"`
}

// manifestFile is one file of a backup, by its slash-separated path
// inside the backup directory.
type manifestFile struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// parseWithArgs parses flags that may come before, between or after the
// positional arguments (plaza admin restore BACKUP --data DIR) and
// returns the positional ones.
func parseWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// runBackup is plaza admin backup [flags] OUT.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("plaza admin backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage); fs.PrintDefaults() }
	cfg.dataFlags(fs)
	fs.StringVar(&cfg.Media, "media", cfg.Media, "media store `url`: file:DIR or s3://… (default file:DATA/media)")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return usageError("%w", err)
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, adminUsage)
		return usageError("plaza admin backup needs one OUT directory")
	}
	if err := cfg.ValidateData(); err != nil {
		return usageError("invalid configuration:\n%w", err)
	}
	dbURL := cfg.DatabaseURL()
	if !strings.HasPrefix(dbURL, "sqlite:") {
		return sqldb.ErrBackupPostgres
	}
	out := pos[0]
	created, err := makeEmptyDir(out, 0o700)
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, keyWarning)
	m, err := backup(ctx, &cfg, out, stderr)
	if err != nil {
		cleanDir(out, created)
		return fmt.Errorf("backup failed, nothing kept in %s: %w", out, err)
	}
	var media, keys int
	var mediaBytes int64
	for _, f := range m.Files {
		switch f.Kind {
		case kindMedia:
			media++
			mediaBytes += f.Size
		case kindKey:
			keys++
		}
	}
	fmt.Fprintf(stdout, "backup written to %s: database (schema version %d), %d media %s (%d bytes), %d key %s\n",
		out, m.SchemaVersion, media, plural(int64(media), "file", "files"), mediaBytes, keys, plural(int64(keys), "file", "files"))
	if len(m.MissingMedia) > 0 {
		fmt.Fprintf(stdout, "%d media %s listed in the database had no bytes when copied (deleted while the backup ran?): %s\n",
			len(m.MissingMedia), plural(int64(len(m.MissingMedia)), "file", "files"), strings.Join(m.MissingMedia, ", "))
	}
	if m.Media != "file" {
		fmt.Fprintln(stdout, "media on S3 were NOT copied: give the bucket its own versioning or replication")
	}
	fmt.Fprintf(stdout, "it holds the keys that decrypt legal identities and sign the audit log: store it as securely as the server\n")
	fmt.Fprintf(stdout, "to restore: plaza admin restore %s --data NEWDIR\n", out)
	return nil
}

// backup copies the database, then the media, then the keys into out
// and writes the manifest last, so a directory without one is known to be
// incomplete. The database goes first: a media row is written after its
// bytes and deleted before them, so every row in the snapshot still has
// its bytes when they are copied, unless the item was deleted in between.
func backup(ctx context.Context, cfg *Config, out string, stderr io.Writer) (*manifest, error) {
	m := &manifest{Format: manifestFormat, CreatedAt: time.Now().UTC(), Version: version, Engine: string(sqldb.SQLite)}
	dbFile := filepath.Join(out, backupDBName)
	snap, err := sqldb.Backup(ctx, cfg.DatabaseURL(), dbFile)
	if err != nil {
		return nil, err
	}
	m.SchemaVersion = snap.SchemaVersion
	// VACUUM INTO creates the file with the default mode; it holds
	// everything the server knows.
	if err := os.Chmod(dbFile, 0o600); err != nil {
		return nil, err
	}
	size, sum, err := hashFile(dbFile)
	if err != nil {
		return nil, err
	}
	m.Files = append(m.Files, manifestFile{Path: backupDBName, Kind: kindDatabase, Size: size, SHA256: sum})

	mediaURL := cfg.MediaURL()
	if strings.HasPrefix(mediaURL, "file:") {
		m.Media = "file"
		store, err := blob.Open(ctx, mediaURL)
		if err != nil {
			return nil, err
		}
		disk, ok := store.(*blob.Disk)
		if !ok {
			return nil, fmt.Errorf("media store %s is not a directory", mediaURL)
		}
		files, err := copyMedia(ctx, disk.Dir(), filepath.Join(out, backupMediaDir))
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, files...)
		if m.MissingMedia, err = missingMedia(ctx, dbFile, files); err != nil {
			return nil, err
		}
	} else {
		m.Media = "s3 (not copied)"
		fmt.Fprintln(stderr, "media are on S3 and are not copied: the bucket needs its own versioning or replication")
	}

	keyDir := filepath.Join(out, backupKeysDir)
	if err := os.Mkdir(keyDir, 0o700); err != nil {
		return nil, err
	}
	keys, err := copyKeys(cfg, keyDir)
	if err != nil {
		return nil, err
	}
	m.Files = append(m.Files, keys...)
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	if err := syncTree(out); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(out, manifestName), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return m, syncDir(out)
}

// copyMedia copies every object of the disk store under dir to dst and
// lists them. Temp files of uploads in progress start with "~", which no
// key may: they are skipped, as are objects deleted during the walk.
func copyMedia(ctx context.Context, dir, dst string) ([]manifestFile, error) {
	var files []manifestFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), "~") || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		size, sum, err := copyFile(p, filepath.Join(dst, rel), 0o640)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted since the walk listed it
		}
		if err != nil {
			return err
		}
		files = append(files, manifestFile{Path: backupMediaDir + "/" + key, Kind: kindMedia, Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy media: %w", err)
	}
	return files, nil
}

// missingMedia returns the blob keys the database snapshot refers to
// that were not copied.
func missingMedia(ctx context.Context, dbFile string, copied []manifestFile) ([]string, error) {
	have := make(map[string]bool, len(copied))
	for _, f := range copied {
		have[strings.TrimPrefix(f.Path, backupMediaDir+"/")] = true
	}
	db, err := sqldb.OpenSnapshot(dbFile)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT storage_key, thumb_key FROM media")
	if err != nil {
		return nil, fmt.Errorf("list media in the snapshot: %w", err)
	}
	defer rows.Close()
	var missing []string
	for rows.Next() {
		var key, thumb string
		if err := rows.Scan(&key, &thumb); err != nil {
			return nil, err
		}
		for _, k := range []string{key, thumb} {
			if k != "" && !have[k] {
				missing = append(missing, k)
			}
		}
	}
	sort.Strings(missing)
	return missing, rows.Err()
}

// copyKeys copies the identity key (with its .next and .retired-* copies)
// and the audit key into dst under their default names.
func copyKeys(cfg *Config, dst string) ([]manifestFile, error) {
	secret := cfg.KeyFile()
	type pair struct{ src, name string }
	pairs := []pair{{secret, secretKeyName}, {cfg.AuditKeyPath(), auditKeyName}}
	if _, err := os.Stat(secret + ".next"); err == nil {
		pairs = append(pairs, pair{secret + ".next", secretKeyName + ".next"})
	}
	retired, err := filepath.Glob(secret + ".retired-*")
	if err != nil {
		return nil, err
	}
	for _, r := range retired {
		pairs = append(pairs, pair{r, secretKeyName + strings.TrimPrefix(r, secret)})
	}
	var files []manifestFile
	for _, p := range pairs {
		size, sum, err := copyFile(p.src, filepath.Join(dst, p.name), 0o600)
		if err != nil {
			return nil, fmt.Errorf("copy key %s: %w", p.src, err)
		}
		files = append(files, manifestFile{Path: backupKeysDir + "/" + p.name, Kind: kindKey, Size: size, SHA256: sum})
	}
	return files, nil
}

// runRestore is plaza admin restore BACKUP --data NEWDIR.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plaza admin restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage); fs.PrintDefaults() }
	data := fs.String("data", "", "new data `dir`ectory to restore into (must not exist or be empty)")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return usageError("%w", err)
	}
	if len(pos) != 1 || *data == "" {
		fmt.Fprint(stderr, adminUsage)
		return usageError("plaza admin restore needs one BACKUP directory and --data NEWDIR")
	}
	src := pos[0]
	m, err := readManifest(src)
	if err != nil {
		return err
	}
	created, err := makeEmptyDir(*data, 0o750)
	if err != nil {
		return err
	}
	if err := restore(ctx, src, *data, m); err != nil {
		cleanDir(*data, created)
		return fmt.Errorf("restore failed, nothing kept in %s: %w", *data, err)
	}
	fmt.Fprintf(stdout, "restored %d files from %s (made %s by plaza %s, schema version %d) into %s\n",
		len(m.Files), src, m.CreatedAt.Format(time.RFC3339), m.Version, m.SchemaVersion, *data)
	if len(m.MissingMedia) > 0 {
		fmt.Fprintf(stdout, "%d media %s were deleted while the backup ran and have no bytes: %s\n",
			len(m.MissingMedia), plural(int64(len(m.MissingMedia)), "file", "files"), strings.Join(m.MissingMedia, ", "))
	}
	if m.Media != "file" {
		fmt.Fprintln(stdout, "media were on S3 and are not in the backup: point --media at the bucket (or its restored copy)")
	}
	fmt.Fprintf(stdout, `next:
  plaza admin audit verify --data %[1]s    check the audit log's chain with the restored key
  plaza migrate status --data %[1]s        see whether this binary would migrate it
  plaza serve --data %[1]s [your other flags]
the keys are in %[1]s (secret.key, audit.key): if the server used --secret-key-file,
--audit-key-file, --db or --media elsewhere, move the files there or point those flags here
`, *data)
	return nil
}

// readManifest reads and checks a backup's manifest: every path must be
// one the backup writes, once; sizes and hashes are checked by restore.
func readManifest(dir string) (*manifest, error) {
	f, err := os.Open(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("not a plaza backup (or an incomplete one): %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, maxManifest))
	dec.DisallowUnknownFields()
	var m manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: corrupted manifest: %w", manifestName, err)
	}
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("%s: format %d, want %d (made by a different plaza version?)", manifestName, m.Format, manifestFormat)
	}
	if m.Engine != string(sqldb.SQLite) {
		return nil, fmt.Errorf("%s: engine %q, want sqlite", manifestName, m.Engine)
	}
	seen := map[string]bool{}
	var db, secret, audit bool
	for _, fl := range m.Files {
		if seen[fl.Path] {
			return nil, fmt.Errorf("%s: %s listed twice", manifestName, fl.Path)
		}
		seen[fl.Path] = true
		if sum, err := hex.DecodeString(fl.SHA256); err != nil || len(sum) != sha256.Size || fl.Size < 0 {
			return nil, fmt.Errorf("%s: %s has a bad size or sha256", manifestName, fl.Path)
		}
		ok := false
		switch fl.Kind {
		case kindDatabase:
			ok, db = fl.Path == backupDBName, true
		case kindMedia:
			key, found := strings.CutPrefix(fl.Path, backupMediaDir+"/")
			ok = found && filepath.IsLocal(key) && path.Clean(key) == key && !strings.HasPrefix(path.Base(key), "~")
		case kindKey:
			name, found := strings.CutPrefix(fl.Path, backupKeysDir+"/")
			ok = found && (name == secretKeyName || name == auditKeyName || name == secretKeyName+".next" ||
				(strings.HasPrefix(name, secretKeyName+".retired-") && !strings.ContainsAny(name, `/\`)))
			secret = secret || name == secretKeyName
			audit = audit || name == auditKeyName
		}
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a %q file a backup holds", manifestName, fl.Path, fl.Kind)
		}
	}
	if !db || !secret || !audit {
		return nil, fmt.Errorf("%s: want the database, secret.key and audit.key listed", manifestName)
	}
	return &m, nil
}

// restore copies the files m lists from src into data, checking each
// one's size and SHA-256, then checks the database.
func restore(ctx context.Context, src, data string, m *manifest) error {
	for _, fl := range m.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		from := filepath.Join(src, filepath.FromSlash(fl.Path))
		var to string
		mode := os.FileMode(0o600)
		switch fl.Kind {
		case kindDatabase:
			to = filepath.Join(data, backupDBName)
		case kindMedia:
			to = filepath.Join(data, filepath.FromSlash(fl.Path))
			mode = 0o640
		case kindKey:
			to = filepath.Join(data, strings.TrimPrefix(fl.Path, backupKeysDir+"/"))
		}
		size, sum, err := copyFile(from, to, mode)
		if err != nil {
			return err
		}
		if size != fl.Size || sum != fl.SHA256 {
			return fmt.Errorf("%s does not match the manifest (got %d bytes with sha256 %s, want %d bytes with %s): the backup is damaged",
				fl.Path, size, sum, fl.Size, fl.SHA256)
		}
	}
	snap, err := sqldb.CheckSnapshot(ctx, filepath.Join(data, backupDBName))
	if err != nil {
		return err
	}
	if snap.SchemaVersion != m.SchemaVersion {
		return fmt.Errorf("the database has schema version %d, the manifest says %d", snap.SchemaVersion, m.SchemaVersion)
	}
	return syncTree(data)
}

// makeEmptyDir creates dir, or accepts an existing empty one, and says
// whether it created it. Anything else is refused, so that neither command
// ever mixes its files with others or overwrites them.
func makeEmptyDir(dir string, mode os.FileMode) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, mode); err != nil {
			return false, err
		}
		return true, nil
	case err != nil:
		return false, err
	case len(entries) > 0:
		return false, fmt.Errorf("%s is not empty: give a new directory", dir)
	}
	// An existing empty directory may be open to others; what goes in
	// (every message, the keys) must not be, even for a moment.
	return false, os.Chmod(dir, mode)
}

// cleanDir removes what a failed command wrote into dir: dir itself when
// the command created it, else its contents (it was empty before).
func cleanDir(dir string, created bool) {
	if created {
		_ = os.RemoveAll(dir)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// copyFile copies src to the new file dst (creating its directories
// 0750) with mode, syncs it, and returns its size and SHA-256.
func copyFile(src, dst string, mode os.FileMode) (int64, string, error) {
	// Only regular files: a crafted backup must not make restore copy
	// whatever a symbolic link in it points at into the data directory.
	if fi, err := os.Lstat(src); err != nil {
		return 0, "", err
	} else if !fi.Mode().IsRegular() {
		return 0, "", fmt.Errorf("%s is not a regular file", src)
	}
	in, err := os.Open(src)
	if err != nil {
		return 0, "", err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return 0, "", err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", fmt.Errorf("copy %s: %w", src, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile returns a file's size and SHA-256.
func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", p, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// writeFileSync writes a new file and syncs it.
func writeFileSync(p string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncTree syncs every directory under root, so the new entries of the
// files synced one by one survive a power cut too.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(p)
	})
}

// syncDir syncs one directory.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
