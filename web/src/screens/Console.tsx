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
import { ConsoleOverview } from './ConsoleOverview';
import { formatDate, formatDateTime, Key, t } from '../i18n';
import { words } from '../words';

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

type Tab = { id: string; label: Key; roles: string[] };
const tabs: Tab[] = [
  { id: 'identity', label: 'console.identityReviews', roles: ['compliance'] },
  { id: 'applications', label: 'console.channelApplications', roles: ['reviewer'] },
  { id: 'posts', label: 'console.postReviews', roles: ['reviewer'] },
  { id: 'microblog', label: 'console.microblogReviews', roles: ['reviewer'] },
  { id: 'reports', label: 'console.tab.reports', roles: ['moderator', 'admin'] },
  { id: 'appeals', label: 'console.tab.appeals', roles: ['moderator', 'admin'] },
  { id: 'orders', label: 'console.authorityOrders', roles: ['admin'] },
  { id: 'rules', label: 'console.tab.rules', roles: ['admin'] },
  { id: 'categories', label: 'console.tab.categories', roles: ['admin'] },
  { id: 'credentials', label: 'console.tab.credentials', roles: ['admin'] },
  { id: 'terms', label: 'console.tab.terms', roles: ['admin'] },
  { id: 'accounts', label: 'console.tab.accounts', roles: ['admin', 'moderator'] },
  { id: 'audit', label: 'console.auditLog', roles: ['admin'] },
];

export function Console() {
  const { me } = useSession();
  const mine = tabs.filter((tab) => tab.roles.some((r) => me.roles?.includes(r)));
  const [tab, setTab] = useState(mine[0]?.id ?? '');
  if (mine.length === 0) {
    return (
      <main class="page narrow">
        <h1>{t('console.operatorConsole')}</h1>
        <p>{t('console.yourAccountHasNo')}</p>
      </main>
    );
  }
  return (
    <main class="page">
      <h1>{t('console.operatorConsole')}</h1>
      <ConsoleOverview open={(id) => mine.some((x) => x.id === id) && setTab(id)} />
      <div class="tabs" role="tablist" aria-label={t('console.consoleSections')}>
        {mine.map((x) => (
          <button
            key={x.id}
            type="button"
            role="tab"
            id={`tab-${x.id}`}
            aria-selected={tab === x.id}
            aria-controls="console-panel"
            class={tab === x.id ? 'tab active' : 'tab'}
            onClick={() => setTab(x.id)}
          >
            {t(x.label)}
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
        {t('console.reasonFor')} {label}
      </label>
      <input id={`reason-${id}`} placeholder={t('console.reasonShownToThe')} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <div class="actions">
        <button type="button" class="primary" onClick={() => go(true)} aria-label={t('console.approveLabel', { label })}>
          {t('console.approve')}
        </button>
        <button type="button" onClick={() => go(false)} aria-label={t('console.rejectLabel', { label })}>
          {t('console.reject')}
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
  if (items === null) return <p>{t('console.loading')}</p>;
  if (items.length === 0) return <p class="empty">{children}</p>;
  return null;
}

function IdentityReviews() {
  const [items, error, load] = useList<Review>('/admin/identity-reviews?status=pending');
  return (
    <>
      <h2>{t('console.identityReviews')}</h2>
      <p class="muted">{t('console.legalNamesAndDocument')}</p>
      <Empty items={items} error={error}>
        {t('console.noIdentitiesAreWaiting')}
      </Empty>
      <ul class="cards">
        {items?.map((r) => (
          <li key={r.id} class="card">
            <strong>{r.legal_name}</strong>
            <div class="muted">
              {t('console.account')} <Name id={r.account_id} /> {t('console.submitted')} {shortTime(r.submitted_at)}
            </div>
            <div>
              {r.document_type === 'passport' ? t('console.passport') : t('console.nationalId')} {r.document_number} ({r.document_country})
            </div>
            <Decide
              id={r.id}
              label={t('console.identityOfLegalName', { legal_name: r.legal_name })}
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
      <h2>{t('console.channelApplications')}</h2>
      <Empty items={items} error={error}>
        {t('console.noApplicationsAreWaiting')}
      </Empty>
      <ul class="cards">
        {items?.map((a) => (
          <li key={a.id} class="card">
            <strong>{a.name}</strong> <span class="muted">@{a.handle}</span>
            <div class="muted">
              {a.kind === 'service' ? t('console.service') : t('console.subscription')} {t('console.accountBy')} <Name id={a.applicant_id} /> · {shortTime(a.created_at)}
            </div>
            {a.description && <p>{a.description}</p>}
            <Decide
              id={a.id}
              label={t('console.applicationForName', { name: a.name })}
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
      <h2>{t('console.microblogReviews')}</h2>
      <Empty items={items} error={error}>
        {t('console.noMicroblogPostsAre')}
      </Empty>
      <ul class="cards">
        {items?.map((p) => (
          <li key={p.id} class="card">
            <Name id={p.author_id} />
            <div class="muted">
              {p.category} · {p.visibility} · {shortTime(p.created_at)}
              {(p.media_ids ?? []).length > 0 && t('console.photos', { count: (p.media_ids ?? []).length })}
            </div>
            <p class="mb-text" lang={textLang(p.text)}>
              {p.text}
            </p>
            <Decide
              id={p.id}
              label={t('console.microblogPostId', { id: p.id })}
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
      <h2>{t('console.postReviews')}</h2>
      <Empty items={items} error={error}>
        {t('console.noPostsAreWaiting')}
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
              label={t('console.postTitle', { title: p.title })}
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

const policyWords = words<string>({
  open: 'console.policyWords.open',
  review: 'console.policyWords.review',
  credential: 'console.policyWords.credential',
  forbidden: 'console.policyWords.forbidden',
});

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
      setSaved(t('console.savedName', { name: name.trim() }));
      setName('');
      setDescription('');
      load();
    } catch (err) {
      setSaveError(err);
    }
  };
  return (
    <>
      <h2>{t('console.categories')}</h2>
      <Empty items={items} error={error}>
        {t('console.noCategoriesYetNobody')}
      </Empty>
      <ul class="people" aria-label={t('console.categories')}>
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
      <h3>{t('console.createOrChangeA')}</h3>
      <form onSubmit={save}>
        <Field id="cat-name" label={t('console.categoryName')}>
          <input id="cat-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="cat-policy" label={t('console.policy')}>
          <select id="cat-policy" value={policy} onChange={(e) => setPolicy(e.currentTarget.value)}>
            {Object.entries(policyWords).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </Field>
        <Field id="cat-desc" label={t('console.categoryDescription')}>
          <input id="cat-desc" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <ErrorBox error={saveError} />
        <div class="row">
          <button type="submit" class="primary">
            {t('console.saveCategory')}
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
      <h2>{t('console.credentials')}</h2>
      <form onSubmit={find} class="row">
        <label for="cred-channel" class="visually-hidden">
          {t('console.channelId')}
        </label>
        <input id="cred-channel" class="mono" inputMode="numeric" placeholder={t('console.channelId')} required value={channelID} onInput={(e) => setChannelID(e.currentTarget.value)} />
        <button type="submit">{t('console.show')}</button>
      </form>
      <ErrorBox error={error} />
      {shown && items && (
        <>
          {items.length === 0 ? (
            <p class="empty">{t('console.thisChannelHoldsNo')}</p>
          ) : (
            <ul class="people" aria-label={t('console.credentials')}>
              {items.map((c) => (
                <li key={c.id}>
                  <span>
                    {t('console.categoryUntil', { category: c.category, date: formatDate(new Date(c.expires_at)) })}
                    {c.revoked_at ? t('console.revoked') : ''}
                  </span>
                  {!c.revoked_at && (
                    <button type="button" onClick={() => revoke(c)} aria-label={t('console.revokeCredentialForCategory', { category: c.category })}>
                      {t('console.revoke')}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={add}>
            <Field id="cred-category" label={t('console.credentialCategory')}>
              <input id="cred-category" required value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
            </Field>
            <Field id="cred-expires" label={t('console.validUntil')}>
              <input id="cred-expires" type="date" required value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
            </Field>
            <button type="submit" class="primary">
              {t('console.grantCredential')}
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
      const terms = await api<{ version: number }>('POST', '/admin/terms', { title: title.trim(), body, requires_reconsent: reconsent });
      setDone(t('console.publishedVersionVersion', { version: terms.version }));
      setTitle('');
      setBody('');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h2>{t('console.publishTerms')}</h2>
      <form onSubmit={publish}>
        <Field id="terms-title" label={t('console.termsTitle')}>
          <input id="terms-title" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </Field>
        <Field id="terms-body" label={t('console.termsText')}>
          <textarea id="terms-body" rows={8} required value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        </Field>
        <div class="check">
          <input id="terms-reconsent" type="checkbox" checked={reconsent} onChange={(e) => setReconsent(e.currentTarget.checked)} />
          <label for="terms-reconsent">{t('console.everyoneMustAcceptAgain')}</label>
        </div>
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary">
            {t('console.publishTerms')}
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
      <h2>{t('console.accounts')}</h2>
      <p class="muted">
        {t('console.suspendingOrClosingHere')}
      </p>
      <form onSubmit={find} class="row">
        <label for="acct-handle" class="visually-hidden">
          {t('console.handleToFind')}
        </label>
        <input id="acct-handle" placeholder={t('console.handle')} required value={handle} onInput={(e) => setHandle(e.currentTarget.value)} />
        <button type="submit">{t('console.find')}</button>
      </form>
      <ErrorBox error={error} />
      {found !== null && found.length === 0 && <p class="empty">{t('console.noAccountHasThat')}</p>}
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
        {t('console.status')} <strong>{a.status}</strong>
        {a.status_reason ? ` (${a.status_reason})` : ''}
        {a.status_until ? t('console.untilV', { time: formatDateTime(new Date(a.status_until)) }) : ''}
      </div>
      {self ? (
        <p class="muted">{t('console.youCannotSuspendOr')}</p>
      ) : (
        <>
          <Field id={`acct-reason-${a.id}`} label={t('console.reason')} hint={t('console.neededForEveryChange')}>
            <input id={`acct-reason-${a.id}`} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={`acct-reason-${a.id}-hint`} />
          </Field>
          {a.status === 'active' && (
            <Field id={`acct-until-${a.id}`} label={t('console.suspendUntilOptional')}>
              <input id={`acct-until-${a.id}`} type="date" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
            </Field>
          )}
          <div class="actions">
            {a.status === 'active' && (
              <button type="button" onClick={() => act('suspension', until ? { reason, until: new Date(until).toISOString() } : { reason })}>
                {t('console.suspend')}
              </button>
            )}
            {a.status === 'suspended' && (
              <button type="button" onClick={() => act('reinstatement', { reason })}>
                {t('console.reinstate')}
              </button>
            )}
            {admin && a.status !== 'closed' && (
              <button type="button" class="danger-inline" onClick={() => act('closure', { reason })}>
                {t('console.closeAccount')}
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
      <h2>{t('console.auditLog')}</h2>
      <ErrorBox error={chainError} />
      {chain && (
        <p class={chain.ok ? 'chain-ok' : 'error-box'} role="status">
          {chain.ok
            ? t('console.chainIntactRowsEntries', { rows: chain.rows })
            : t('console.chainBrokenAtEntry', { first_broken_seq: String(chain.first_broken_seq), problem: String(chain.problem) })}
        </p>
      )}
      <Empty items={items} error={error}>
        {t('console.theLogIsEmpty')}
      </Empty>
      <ol class="audit" aria-label={t('console.auditEntries')}>
        {items?.map((e) => (
          <li key={e.seq}>
            <span class="mono">#{e.seq}</span> {shortTime(e.at)} · <strong>{e.action}</strong> {t('console.by')} {e.actor} {t('console.on')} {e.target_type} {e.target_id}
            {e.reason ? ` — ${e.reason}` : ''}
          </li>
        ))}
      </ol>
    </>
  );
}
