// The operator's console, for accounts with a role: identity reviews (the
// only place legal names are shown; compliance), channel applications and
// post reviews (reviewer), the report and appeal queues (moderator, admin),
// authority orders and rules (admin), categories, credentials and
// publishing terms (admin), suspending and closing accounts (admin,
// moderator), and the audit log with its chain status (admin).
import { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, Category, ChannelApplication, List, Me, Post } from '../api';
import { useSession } from '../app';
import { ErrorBox, Field, shortTime } from '../ui';
import { Name } from './Contacts';
import { MicroPost, textLang } from '../microblog';
import { AppealQueue, AuthorityOrders, ReportQueue, RulesAdmin } from './ModConsole';

export const consoleRoles = ['admin', 'reviewer', 'compliance', 'moderator'];

interface Review {
  id: string;
  account_id: string;
  legal_name: string;
  document_type: string;
  document_number: string;
  document_country: string;
  status: string;
  submitted_at: string;
}

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  reason: string;
}

interface Credential {
  id: string;
  channel_id: string;
  category: string;
  expires_at: string;
  revoked_at?: string;
}

type Tab = { id: string; label: string; roles: string[] };
const tabs: Tab[] = [
  { id: 'identity', label: 'Identity reviews', roles: ['compliance'] },
  { id: 'applications', label: 'Channel applications', roles: ['reviewer'] },
  { id: 'posts', label: 'Post reviews', roles: ['reviewer'] },
  { id: 'microblog', label: 'Microblog reviews', roles: ['reviewer'] },
  { id: 'reports', label: 'Reports', roles: ['moderator', 'admin'] },
  { id: 'appeals', label: 'Appeals', roles: ['moderator', 'admin'] },
  { id: 'orders', label: 'Authority orders', roles: ['admin'] },
  { id: 'rules', label: 'Rules', roles: ['admin'] },
  { id: 'categories', label: 'Categories', roles: ['admin'] },
  { id: 'credentials', label: 'Credentials', roles: ['admin'] },
  { id: 'terms', label: 'Terms', roles: ['admin'] },
  { id: 'accounts', label: 'Accounts', roles: ['admin', 'moderator'] },
  { id: 'audit', label: 'Audit log', roles: ['admin'] },
];

export function Console() {
  const { me } = useSession();
  const mine = tabs.filter((t) => t.roles.some((r) => me.roles?.includes(r)));
  const [tab, setTab] = useState(mine[0]?.id ?? '');
  if (mine.length === 0) {
    return (
      <main class="page narrow">
        <h1>Operator console</h1>
        <p>Your account has no operator role. An administrator can grant one.</p>
      </main>
    );
  }
  return (
    <main class="page">
      <h1>Operator console</h1>
      <div class="tabs" role="tablist" aria-label="Console sections">
        {mine.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls="console-panel"
            class={tab === t.id ? 'tab active' : 'tab'}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <section id="console-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === 'identity' && <IdentityReviews />}
        {tab === 'applications' && <Applications />}
        {tab === 'posts' && <PostReviews />}
        {tab === 'microblog' && <MicroblogReviews />}
        {tab === 'reports' && <ReportQueue />}
        {tab === 'appeals' && <AppealQueue />}
        {tab === 'orders' && <AuthorityOrders />}
        {tab === 'rules' && <RulesAdmin />}
        {tab === 'categories' && <Categories />}
        {tab === 'credentials' && <Credentials />}
        {tab === 'terms' && <TermsAdmin />}
        {tab === 'accounts' && <Accounts />}
        {tab === 'audit' && <Audit />}
      </section>
    </main>
  );
}

/** Decide asks for a reason and approves or rejects. */
function Decide({ id, label, onDecide }: { id: string; label: string; onDecide: (approve: boolean, reason: string) => Promise<void> }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const go = async (approve: boolean) => {
    setError(null);
    try {
      await onDecide(approve, reason.trim());
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="decide">
      <label for={`reason-${id}`} class="visually-hidden">
        Reason for {label}
      </label>
      <input id={`reason-${id}`} placeholder="Reason (shown to the person)" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <div class="actions">
        <button type="button" class="primary" onClick={() => go(true)} aria-label={`Approve ${label}`}>
          Approve
        </button>
        <button type="button" onClick={() => go(false)} aria-label={`Reject ${label}`}>
          Reject
        </button>
      </div>
      <ErrorBox error={error} />
    </div>
  );
}

function useList<T>(path: string): [T[] | null, unknown, () => void] {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    api<List<T>>('GET', path).then(
      (l) => {
        setItems(l.items);
        setError(null);
      },
      setError,
    );
  useEffect(() => {
    load();
  }, [path]);
  return [items, error, load];
}

function Empty({ items, error, children }: { items: unknown[] | null; error: unknown; children: ComponentChildren }) {
  if (error) return <ErrorBox error={error} />;
  if (items === null) return <p>Loading…</p>;
  if (items.length === 0) return <p class="empty">{children}</p>;
  return null;
}

function IdentityReviews() {
  const [items, error, load] = useList<Review>('/admin/identity-reviews?status=pending');
  return (
    <>
      <h2>Identity reviews</h2>
      <p class="muted">Legal names and document numbers are shown only here; each view is written to the audit log.</p>
      <Empty items={items} error={error}>
        No identities are waiting.
      </Empty>
      <ul class="cards">
        {items?.map((r) => (
          <li key={r.id} class="card">
            <strong>{r.legal_name}</strong>
            <div class="muted">
              Account <Name id={r.account_id} /> · submitted {shortTime(r.submitted_at)}
            </div>
            <div>
              {r.document_type === 'passport' ? 'Passport' : 'National ID'} {r.document_number} ({r.document_country})
            </div>
            <Decide
              id={r.id}
              label={`identity of ${r.legal_name}`}
              onDecide={async (approve, reason) => {
                await api('POST', `/admin/identity-reviews/${r.id}/decision`, { approve, reason });
                load();
              }}
            />
          </li>
        ))}
      </ul>
    </>
  );
}

function Applications() {
  const [items, error, load] = useList<ChannelApplication>('/admin/channel-applications?status=pending');
  return (
    <>
      <h2>Channel applications</h2>
      <Empty items={items} error={error}>
        No applications are waiting.
      </Empty>
      <ul class="cards">
        {items?.map((a) => (
          <li key={a.id} class="card">
            <strong>{a.name}</strong> <span class="muted">@{a.handle}</span>
            <div class="muted">
              {a.kind === 'service' ? 'Service' : 'Subscription'} account · by <Name id={a.applicant_id} /> · {shortTime(a.created_at)}
            </div>
            {a.description && <p>{a.description}</p>}
            <Decide
              id={a.id}
              label={`application for ${a.name}`}
              onDecide={async (approve, reason) => {
                await api('POST', `/admin/channel-applications/${a.id}/decision`, { approve, reason });
                load();
              }}
            />
          </li>
        ))}
      </ul>
    </>
  );
}

/** MicroblogReviews holds microblog posts in a review category until a reviewer decides. */
function MicroblogReviews() {
  const [items, error, load] = useList<MicroPost>('/admin/microblog-reviews?status=pending');
  return (
    <>
      <h2>Microblog reviews</h2>
      <Empty items={items} error={error}>
        No microblog posts are waiting.
      </Empty>
      <ul class="cards">
        {items?.map((p) => (
          <li key={p.id} class="card">
            <Name id={p.author_id} />
            <div class="muted">
              {p.category} · {p.visibility} · {shortTime(p.created_at)}
              {(p.media_ids ?? []).length > 0 && ` · ${(p.media_ids ?? []).length} photo${(p.media_ids ?? []).length === 1 ? '' : 's'}`}
            </div>
            <p class="mb-text" lang={textLang(p.text)}>
              {p.text}
            </p>
            <Decide
              id={p.id}
              label={`microblog post ${p.id}`}
              onDecide={async (approve, reason) => {
                await api('POST', `/admin/microblog-reviews/${p.id}/decision`, { approve, reason });
                load();
              }}
            />
          </li>
        ))}
      </ul>
    </>
  );
}

function PostReviews() {
  const [items, error, load] = useList<Post>('/admin/post-reviews?status=pending');
  return (
    <>
      <h2>Post reviews</h2>
      <Empty items={items} error={error}>
        No posts are waiting.
      </Empty>
      <ul class="cards">
        {items?.map((p) => (
          <li key={p.id} class="card">
            <strong>{p.title}</strong>
            <div class="muted">
              {p.category} · {shortTime(p.created_at)}
            </div>
            <div class="post-body" dangerouslySetInnerHTML={{ __html: p.body_html }} />
            <Decide
              id={p.id}
              label={`post ${p.title}`}
              onDecide={async (approve, reason) => {
                await api('POST', `/admin/post-reviews/${p.id}/decision`, { approve, reason });
                load();
              }}
            />
          </li>
        ))}
      </ul>
    </>
  );
}

const policyWords: Record<string, string> = {
  open: 'Open: published at once',
  review: 'Review: held until a reviewer decides',
  credential: 'Credential: needs a credential',
  forbidden: 'Forbidden',
};

function Categories() {
  const [items, error, load] = useList<Category>('/categories');
  const [name, setName] = useState('');
  const [policy, setPolicy] = useState('open');
  const [description, setDescription] = useState('');
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    setSaved('');
    try {
      await api('PUT', `/admin/categories/${encodeURIComponent(name.trim())}`, { policy, description: description.trim() });
      setSaved(`Saved “${name.trim()}”.`);
      setName('');
      setDescription('');
      load();
    } catch (err) {
      setSaveError(err);
    }
  };
  return (
    <>
      <h2>Categories</h2>
      <Empty items={items} error={error}>
        No categories yet: nobody can post until you create one.
      </Empty>
      <ul class="people" aria-label="Categories">
        {items?.map((c) => (
          <li key={c.name}>
            <span class="person">
              <strong>{c.name}</strong>
              <span class="muted">{c.description}</span>
            </span>
            <span>{policyWords[c.policy] ?? c.policy}</span>
          </li>
        ))}
      </ul>
      <h3>Create or change a category</h3>
      <form onSubmit={save}>
        <Field id="cat-name" label="Category name">
          <input id="cat-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="cat-policy" label="Policy">
          <select id="cat-policy" value={policy} onChange={(e) => setPolicy(e.currentTarget.value)}>
            {Object.entries(policyWords).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </Field>
        <Field id="cat-desc" label="Category description">
          <input id="cat-desc" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <ErrorBox error={saveError} />
        <div class="row">
          <button type="submit" class="primary">
            Save category
          </button>
          <span role="status">{saved}</span>
        </div>
      </form>
    </>
  );
}

function Credentials() {
  const [channelID, setChannelID] = useState('');
  const [shown, setShown] = useState('');
  const [items, setItems] = useState<Credential[] | null>(null);
  const [category, setCategory] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<unknown>(null);
  const load = async (id: string) => {
    setError(null);
    try {
      const l = await api<List<Credential>>('GET', `/admin/channels/${id}/credentials`);
      setItems(l.items);
      setShown(id);
    } catch (e) {
      setError(e);
    }
  };
  const find = (e: Event) => {
    e.preventDefault();
    load(channelID.trim());
  };
  const add = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api('POST', `/admin/channels/${shown}/credentials`, { category: category.trim(), expires_at: new Date(expires).toISOString() });
      setCategory('');
      load(shown);
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (c: Credential) => {
    try {
      await api('DELETE', `/admin/channels/${shown}/credentials/${c.id}`);
      load(shown);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h2>Credentials</h2>
      <form onSubmit={find} class="row">
        <label for="cred-channel" class="visually-hidden">
          Channel ID
        </label>
        <input id="cred-channel" class="mono" inputMode="numeric" placeholder="Channel ID" required value={channelID} onInput={(e) => setChannelID(e.currentTarget.value)} />
        <button type="submit">Show</button>
      </form>
      <ErrorBox error={error} />
      {shown && items && (
        <>
          {items.length === 0 ? (
            <p class="empty">This channel holds no credentials.</p>
          ) : (
            <ul class="people" aria-label="Credentials">
              {items.map((c) => (
                <li key={c.id}>
                  <span>
                    {c.category} · until {new Date(c.expires_at).toLocaleDateString()}
                    {c.revoked_at ? ' · revoked' : ''}
                  </span>
                  {!c.revoked_at && (
                    <button type="button" onClick={() => revoke(c)} aria-label={`Revoke credential for ${c.category}`}>
                      Revoke
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={add}>
            <Field id="cred-category" label="Credential category">
              <input id="cred-category" required value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
            </Field>
            <Field id="cred-expires" label="Valid until">
              <input id="cred-expires" type="date" required value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
            </Field>
            <button type="submit" class="primary">
              Grant credential
            </button>
          </form>
        </>
      )}
    </>
  );
}

function TermsAdmin() {
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [reconsent, setReconsent] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const publish = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone('');
    try {
      const t = await api<{ version: number }>('POST', '/admin/terms', { title: title.trim(), body, requires_reconsent: reconsent });
      setDone(`Published version ${t.version}.`);
      setTitle('');
      setBody('');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h2>Publish terms</h2>
      <form onSubmit={publish}>
        <Field id="terms-title" label="Terms title">
          <input id="terms-title" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </Field>
        <Field id="terms-body" label="Terms text">
          <textarea id="terms-body" rows={8} required value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        </Field>
        <div class="check">
          <input id="terms-reconsent" type="checkbox" checked={reconsent} onChange={(e) => setReconsent(e.currentTarget.checked)} />
          <label for="terms-reconsent">Everyone must accept again before continuing</label>
        </div>
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary">
            Publish terms
          </button>
          <span role="status">{done}</span>
        </div>
      </form>
    </>
  );
}

function Accounts() {
  const { me } = useSession();
  const [handle, setHandle] = useState('');
  const [found, setFound] = useState<Me[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const find = async (e?: Event) => {
    e?.preventDefault();
    setError(null);
    try {
      const l = await api<List<Me>>('GET', `/admin/accounts?handle=${encodeURIComponent(handle.trim().replace(/^@/, ''))}`);
      setFound(l.items);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h2>Accounts</h2>
      <p class="muted">
        Suspending or closing here cites no rule, sends no statement of reasons, cannot be appealed and is not counted in the transparency report. To act on
        someone, decide under Reports › Act without a report (target type Account).
      </p>
      <form onSubmit={find} class="row">
        <label for="acct-handle" class="visually-hidden">
          Handle to find
        </label>
        <input id="acct-handle" placeholder="Handle" required value={handle} onInput={(e) => setHandle(e.currentTarget.value)} />
        <button type="submit">Find</button>
      </form>
      <ErrorBox error={error} />
      {found !== null && found.length === 0 && <p class="empty">No account has that handle.</p>}
      <ul class="cards">
        {found?.map((a) => (
          <AccountCard key={a.id} a={a} self={a.id === me.id} admin={me.roles.includes('admin')} onChange={() => find()} />
        ))}
      </ul>
    </>
  );
}

function AccountCard({ a, self, admin, onChange }: { a: Me & { status_reason?: string; status_until?: string }; self: boolean; admin: boolean; onChange: () => void }) {
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  const [error, setError] = useState<unknown>(null);
  const act = async (path: string, body: Record<string, unknown>) => {
    setError(null);
    try {
      await api('POST', `/admin/accounts/${a.id}/${path}`, body);
      setReason('');
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <li class="card">
      <strong>{a.display_name}</strong> <span class="muted">@{a.handle}</span>
      <div>
        Status: <strong>{a.status}</strong>
        {a.status_reason ? ` (${a.status_reason})` : ''}
        {a.status_until ? ` until ${new Date(a.status_until).toLocaleString()}` : ''}
      </div>
      {self ? (
        <p class="muted">You cannot suspend or close your own account.</p>
      ) : (
        <>
          <Field id={`acct-reason-${a.id}`} label="Reason" hint="Needed for every change; the person sees it.">
            <input id={`acct-reason-${a.id}`} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={`acct-reason-${a.id}-hint`} />
          </Field>
          {a.status === 'active' && (
            <Field id={`acct-until-${a.id}`} label="Suspend until (optional)">
              <input id={`acct-until-${a.id}`} type="date" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
            </Field>
          )}
          <div class="actions">
            {a.status === 'active' && (
              <button type="button" onClick={() => act('suspension', until ? { reason, until: new Date(until).toISOString() } : { reason })}>
                Suspend
              </button>
            )}
            {a.status === 'suspended' && (
              <button type="button" onClick={() => act('reinstatement', { reason })}>
                Reinstate
              </button>
            )}
            {admin && a.status !== 'closed' && (
              <button type="button" class="danger-inline" onClick={() => act('closure', { reason })}>
                Close account
              </button>
            )}
          </div>
          <ErrorBox error={error} />
        </>
      )}
    </li>
  );
}

function Audit() {
  const [items, error] = useList<AuditEntry>('/admin/audit-log?limit=50');
  const [chain, setChain] = useState<{ ok: boolean; rows: number; first_broken_seq?: number; problem?: string } | null>(null);
  const [chainError, setChainError] = useState<unknown>(null);
  useEffect(() => {
    api<typeof chain>('GET', '/admin/audit-log/verification').then(setChain, setChainError);
  }, []);
  return (
    <>
      <h2>Audit log</h2>
      <ErrorBox error={chainError} />
      {chain && (
        <p class={chain.ok ? 'chain-ok' : 'error-box'} role="status">
          {chain.ok
            ? `Chain intact: ${chain.rows} entries verified.`
            : `Chain broken at entry ${chain.first_broken_seq}: ${chain.problem}. The log was changed outside Plaza; keep a copy and investigate.`}
        </p>
      )}
      <Empty items={items} error={error}>
        The log is empty.
      </Empty>
      <ol class="audit" aria-label="Audit entries">
        {items?.map((e) => (
          <li key={e.seq}>
            <span class="mono">#{e.seq}</span> {shortTime(e.at)} · <strong>{e.action}</strong> by {e.actor} on {e.target_type} {e.target_id}
            {e.reason ? ` — ${e.reason}` : ''}
          </li>
        ))}
      </ol>
    </>
  );
}
