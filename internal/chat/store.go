package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// This file holds the chat domain's SQL, one text for both engines.

// stmts are the statements of the hot write path, prepared once on the
// writer connection. Most take many rows at once (see sqldb.Ladder): a batch
// costs a few statements, not a few per message.
type stmts struct {
	db *sqldb.DB

	// On SQLite each step of a batch is a ladder of multi-row
	// statements; on PostgreSQL (pg) it is one statement over arrays.
	findByClients *sqldb.Ladder // the stored messages among (conversation, sender, client_id) keys
	bumpConvs     *sqldb.Ladder // numbers sends in several conversations
	insertMessage *sqldb.Ladder
	markReads     *sqldb.Ladder // moves the read positions of (conversation, sender) pairs
	pg            *pgStmts
	bumpConv      *sql.Stmt
	markRead      *sql.Stmt
	memberIDs     *sql.Stmt
}

// pgStmts are the PostgreSQL statements of a batch. Each takes the whole
// batch as arrays (unnest), so a batch of 4,096 sends costs one round trip
// per step rather than one per 64 rows, and one prepared text serves every
// size. Their plans must not depend on table statistics: a plan cached
// while a fresh database's tables were empty outlives their growth until
// the next ANALYZE. So every join reaches the table through an index
// condition (= ANY, or a LATERAL look-up per key): with the 64-way OR of
// the ladder, PostgreSQL kept a sequential scan of messages per batch.
type pgStmts struct {
	findByClients *sql.Stmt // $1 conversations, $2 senders, $3 client_ids
	lockConvs     *sql.Stmt // $1 conversations: locks them in ascending order
	bumpConvs     *sql.Stmt // $1 conversations, $2 counts, $3 versions, $4 now
	insertMessage *sql.Stmt
	markReads     *sql.Stmt // $1 conversations, $2 senders, $3 seqs
}

func (p *pgStmts) all() []**sql.Stmt {
	return []**sql.Stmt{&p.findByClients, &p.lockConvs, &p.bumpConvs, &p.insertMessage, &p.markReads}
}

func preparePG(ctx context.Context, db *sqldb.DB) (*pgStmts, error) {
	p := &pgStmts{}
	for i, q := range []string{
		// LIMIT 1 keeps the subquery a per-key index look-up: the
		// planner cannot flatten it into a join that scans messages.
		`SELECT m.* FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS k(conv, sender, client)
			CROSS JOIN LATERAL (SELECT ` + messageColumns + ` FROM messages
				WHERE conversation_id = k.conv AND sender_id = k.sender AND client_id = k.client LIMIT 1) AS m`,
		// Locking is done by LockRows above the sort, so rows are locked
		// in id order: the global lock order that keeps writers on
		// several nodes from deadlocking. An UPDATE alone would lock in
		// whatever order its plan visits the rows.
		`SELECT id FROM conversations WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
		// Numbers the sends of each conversation only while the
		// membership they were checked against holds (see number).
		`UPDATE conversations AS c SET last_seq = c.last_seq + v.n, updated_at = $4
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, n, version)
			WHERE c.id = ANY($1::bigint[]) AND c.id = v.id AND c.members_version = v.version
			RETURNING c.id, c.last_seq`,
		`INSERT INTO messages (conversation_id, seq, id, sender_id, client_id, kind, text, media_id, reply_to, mentions, recalled, created_at)
			SELECT conv, seq, id, sender, client, kind, text, media, reply, mentions, false, $11
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[])
				AS v(conv, seq, id, sender, client, kind, text, media, reply, mentions)`,
		// Sending reads everything before it.
		`UPDATE members AS m SET read_seq = v.seq
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(conv, account, seq)
			WHERE m.conversation_id = ANY($1::bigint[]) AND m.conversation_id = v.conv AND m.account_id = v.account AND m.read_seq < v.seq`,
	} {
		s, err := db.Prepare(ctx, q)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		*p.all()[i] = s
	}
	return p, nil
}

func (p *pgStmts) close() {
	for _, s := range p.all() {
		if *s != nil {
			(*s).Close()
		}
	}
}

// maxRows is the most rows one multi-row statement covers: 64 messages
// are 768 parameters, far below SQLite's 32,766 and PostgreSQL's 65,535.
const maxRows = 64

// messageRow is row i of insertMessages' VALUES, with placeholders p.
func messageRow(p func(int) string) func(i int) string {
	return func(i int) string {
		ps := make([]string, 12)
		for j := range ps {
			ps[j] = p(12*i + j + 1)
		}
		return "(" + strings.Join(ps, ", ") + ")"
	}
}

// insertMessages starts the multi-row insert of messages into table.
func insertMessages(table string) string {
	return `INSERT INTO ` + table + ` (conversation_id, seq, id, sender_id, client_id, kind, text, media_id, reply_to, mentions, recalled, created_at) VALUES `
}

func prepare(ctx context.Context, db *sqldb.DB) (*stmts, error) {
	st := stmts{db: db}
	var err error
	p := db.Param
	ladders := []struct {
		dst **sqldb.Ladder
		row func(i int) string
		sep string
		sql func(rows string) string
	}{
		{&st.findByClients, func(i int) string {
			return "(conversation_id = " + p(3*i+1) + " AND sender_id = " + p(3*i+2) + " AND client_id = " + p(3*i+3) + ")"
		}, " OR ", func(rows string) string {
			return `SELECT ` + messageColumns + ` FROM messages WHERE ` + rows
		}},
		// Numbers the sends of each conversation only while the
		// membership they were checked against holds (see number). The
		// casts give PostgreSQL the parameters' types, which VALUES alone
		// would leave as text.
		{&st.bumpConvs, func(i int) string {
			return "(CAST(" + p(3*i+2) + " AS BIGINT), CAST(" + p(3*i+3) + " AS BIGINT), CAST(" + p(3*i+4) + " AS BIGINT))"
		}, ", ", func(rows string) string {
			return `UPDATE conversations SET last_seq = last_seq + v.column2, updated_at = ` + p(1) + ` FROM (VALUES ` + rows + `) AS v
				WHERE conversations.id = v.column1 AND conversations.members_version = v.column3 RETURNING id, last_seq`
		}},
		{&st.insertMessage, messageRow(p), ", ", func(rows string) string {
			return insertMessages("messages") + rows
		}},
		// Sending reads everything before it.
		{&st.markReads, func(i int) string {
			return "(CAST(" + p(3*i+1) + " AS BIGINT), CAST(" + p(3*i+2) + " AS BIGINT), CAST(" + p(3*i+3) + " AS BIGINT))"
		}, ", ", func(rows string) string {
			return `UPDATE members SET read_seq = v.column3 FROM (VALUES ` + rows + `) AS v
				WHERE members.conversation_id = v.column1 AND members.account_id = v.column2 AND members.read_seq < v.column3`
		}},
	}
	if db.Engine == sqldb.Postgres {
		if st.pg, err = preparePG(ctx, db); err != nil {
			return nil, err
		}
		ladders = nil
	}
	for _, l := range ladders {
		if *l.dst, err = db.PrepareLadder(ctx, maxRows, l.row, l.sep, l.sql); err != nil {
			st.close()
			return nil, err
		}
	}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.bumpConv, `UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2 WHERE id = $1 AND members_version = $3 RETURNING last_seq`},
		{&st.markRead, `UPDATE members SET read_seq = $3 WHERE conversation_id = $1 AND account_id = $2 AND read_seq < $3`},
		{&st.memberIDs, `SELECT account_id FROM members WHERE conversation_id = $1 ORDER BY account_id`},
	} {
		s, err := db.Prepare(ctx, p.q)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %q: %w", p.q, err)
		}
		*p.dst = s
	}
	return &st, nil
}

func (st *stmts) close() {
	for _, l := range []*sqldb.Ladder{st.findByClients, st.bumpConvs, st.insertMessage, st.markReads} {
		l.Close()
	}
	if st.pg != nil {
		st.pg.close()
	}
	for _, s := range []*sql.Stmt{st.bumpConv, st.markRead, st.memberIDs} {
		if s != nil {
			s.Close()
		}
	}
}

const messageColumns = `id, conversation_id, seq, sender_id, client_id, kind, text, media_id, reply_to, mentions, recalled, created_at,
	mod_action, mod_label, mod_decision`

func scanMessage(row interface{ Scan(...any) error }) (Message, error) {
	var n nullMessage
	if err := row.Scan(n.dest()...); err != nil {
		return Message{}, err
	}
	m, _ := n.message()
	return m, nil
}

func mentionsJSON(ids []plaza.ID) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func optID(id *plaza.ID) any {
	if id == nil {
		return nil
	}
	return int64(*id)
}

func getMessage(ctx context.Context, q sqldb.Queryer, id plaza.ID) (Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id))
	return m, sqldb.MapError(err, "message")
}

// listMessages returns messages of a conversation as viewer sees them.
func listMessages(ctx context.Context, q sqldb.Queryer, viewer, conv plaza.ID, after, before int64, limit int) ([]Message, error) {
	var rows *sql.Rows
	var err error
	if before > 0 {
		// The page just before `before`, returned ascending.
		rows, err = q.QueryContext(ctx, `SELECT `+messageColumns+` FROM (SELECT * FROM messages
			WHERE conversation_id = $1 AND seq < $2 AND seq > $3 ORDER BY seq DESC LIMIT $4) m ORDER BY seq`, conv, before, after, limit)
	} else {
		rows, err = q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
			WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, conv, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		m.render(viewer)
		out = append(out, m)
	}
	return out, rows.Err()
}

// member is one's membership in a conversation.
type member struct {
	role      string
	readSeq   int64
	joinedSeq int64
}

func getMember(ctx context.Context, q sqldb.Queryer, conv, account plaza.ID) (member, error) {
	var m member
	err := q.QueryRowContext(ctx, `SELECT role, read_seq, joined_seq FROM members WHERE conversation_id = $1 AND account_id = $2`, conv, account).
		Scan(&m.role, &m.readSeq, &m.joinedSeq)
	return m, err
}

const conversationColumns = `c.id, c.kind, c.title, c.last_seq, c.created_at, c.updated_at`

func scanConversation(dest []any, c *Conversation) []any {
	return append(dest, &c.ID, &c.Kind, &c.Title, &c.LastSeq, (*microTime)(&c.CreatedAt), (*microTime)(&c.UpdatedAt))
}

// microTime scans a Unix-microsecond column into a time.Time.
type microTime time.Time

func (t *microTime) Scan(v any) error {
	us, ok := v.(int64)
	if !ok {
		return fmt.Errorf("time column: got %T", v)
	}
	*t = microTime(time.UnixMicro(us).UTC())
	return nil
}

func getConversation(ctx context.Context, q sqldb.Queryer, id plaza.ID) (Conversation, error) {
	var c Conversation
	err := q.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations c WHERE c.id = $1`, id).Scan(scanConversation(nil, &c)...)
	if err != nil {
		return Conversation{}, sqldb.MapError(err, "conversation")
	}
	if err := fillMembers(ctx, q, []*Conversation{&c}); err != nil {
		return Conversation{}, err
	}
	return c, nil
}

// fillMembers loads the members of each conversation in one query.
func fillMembers(ctx context.Context, q sqldb.Queryer, cs []*Conversation) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[plaza.ID]*Conversation, len(cs))
	args := make([]any, len(cs))
	ph := make([]string, len(cs))
	for i, c := range cs {
		byID[c.ID] = c
		c.MemberIDs, c.AdminIDs = []plaza.ID{}, nil
		args[i] = c.ID
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT conversation_id, account_id, role FROM members WHERE conversation_id IN (`+strings.Join(ph, ",")+`) ORDER BY joined_at, account_id`, args...)
	if err != nil {
		return fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, aid plaza.ID
		var role string
		if err := rows.Scan(&cid, &aid, &role); err != nil {
			return fmt.Errorf("members: %w", err)
		}
		c := byID[cid]
		c.MemberIDs = append(c.MemberIDs, aid)
		switch role {
		case RoleOwner:
			c.OwnerID = aid
		case RoleAdmin:
			c.AdminIDs = append(c.AdminIDs, aid)
		}
	}
	return rows.Err()
}

func memberIDs(ctx context.Context, q sqldb.Queryer, conv plaza.ID) ([]plaza.ID, error) {
	rows, err := q.QueryContext(ctx, `SELECT account_id FROM members WHERE conversation_id = $1 ORDER BY account_id`, conv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plaza.ID
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func areContacts(ctx context.Context, q sqldb.Queryer, a, b plaza.ID) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE account_id = $1 AND contact_id = $2`, a, b).Scan(&n)
	return n > 0, err
}

// blocked reports whether blocker has blocked who.
func blocked(ctx context.Context, q sqldb.Queryer, blocker, who plaza.ID) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM blocks WHERE account_id = $1 AND blocked_id = $2`, blocker, who).Scan(&n)
	return n > 0, err
}

// loadMessages renders the current state of messages by id as account
// sees them, for the message events that sync and replay read (a
// recalled message without its text; a removed one without its text and
// media, but to its sender). A page of the sync log can name hundreds of
// messages: on SQLite their ids are bound to anonymous placeholders (see
// sqldb.Param), which took a third off the time of a 500-id query.
func (s *Service) loadMessages(ctx context.Context, q sqldb.Queryer, account plaza.ID, ids []plaza.ID) (map[plaza.ID][]byte, error) {
	out := make(map[plaza.ID][]byte, len(ids))
	const most = 512 // ids per query: InList pads to a power of two
	for start := 0; start < len(ids); start += most {
		part := ids[start:min(len(ids), start+most)]
		vals := make([]any, len(part))
		for i, id := range part {
			vals[i] = id
		}
		in, args := s.db.InList(1, vals)
		rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			m.render(account)
			b, err := json.Marshal(m)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[m.ID] = b
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
