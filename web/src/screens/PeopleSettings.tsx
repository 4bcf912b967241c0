// Settings sections about reaching people: who may find you by handle or
// phone number (Settings › Privacy), and push notifications on this
// device (Settings › Notifications).
import { useEffect, useState } from 'preact/hooks';
import { getPrivacy, Privacy, setPrivacy } from '../people';
import { disablePush, enablePush, pushState, PushState } from '../push';
import { ErrorBox } from '../ui';
import { Key, t } from '../i18n';
import '../people.css';

const switches: { key: keyof Privacy; label: Key; what: Key }[] = [
  { key: 'find_by_handle', label: 'people.privacy.byHandle', what: 'people.privacy.byHandleWhat' },
  { key: 'find_by_phone', label: 'people.privacy.byPhone', what: 'people.privacy.byPhoneWhat' },
];

/** FindMeSettings shows the two "find me by" switches; each change is saved at once. */
export function FindMeSettings() {
  const [p, setP] = useState<Privacy | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState<keyof Privacy | null>(null);
  const [status, setStatus] = useState('');

  useEffect(() => {
    getPrivacy().then(setP, setError);
  }, []);

  const flip = async (key: keyof Privacy, on: boolean) => {
    if (!p) return;
    setError(null);
    setStatus('');
    setSaving(key);
    setP({ ...p, [key]: on });
    try {
      setP(await setPrivacy({ [key]: on }));
      setStatus(t('common.saved'));
    } catch (e) {
      setP(p); // put the switch back: nothing changed
      setError(e);
    } finally {
      setSaving(null);
    }
  };

  return (
    <section aria-labelledby="find-me-h">
      <h3 id="find-me-h">{t('people.privacy.title')}</h3>
      <ErrorBox error={error} />
      {!p && !error && <p>{t('people.loading')}</p>}
      {p && (
        <ul class="switches">
          {switches.map((s) => (
            <li key={s.key}>
              <label class="switch">
                <input
                  type="checkbox"
                  role="switch"
                  id={`privacy-${s.key}`}
                  checked={p[s.key]}
                  disabled={saving === s.key}
                  aria-describedby={`privacy-${s.key}-what`}
                  onChange={(e) => flip(s.key, e.currentTarget.checked)}
                />
                <span>{t(s.label)}</span>
              </label>
              <p class="hint" id={`privacy-${s.key}-what`}>
                {t(s.what)}
              </p>
            </li>
          ))}
        </ul>
      )}
      <p role="status" class="muted">
        {status}
      </p>
    </section>
  );
}

const pushWords: Record<PushState, Key> = {
  unsupported: 'people.push.unsupported',
  denied: 'people.push.denied',
  off: 'people.push.off',
  on: 'people.push.on',
};

/** PushSetting turns push notifications on this device on or off, and says why when it cannot. */
export function PushSetting() {
  const [state, setState] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    pushState().then(setState, () => setState('unsupported'));
  }, []);

  const change = async (on: boolean) => {
    setBusy(true);
    setError(null);
    try {
      setState(await (on ? enablePush() : disablePush()));
    } catch (e) {
      setError(e);
      pushState().then(setState, () => {});
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="push-h">
      <h3 id="push-h">{t('people.push.title')}</h3>
      {state === null ? (
        <p>{t('people.loading')}</p>
      ) : (
        <>
          <p id="push-state" role="status">
            {t(pushWords[state])}
          </p>
          {(state === 'off' || state === 'on') && (
            <button type="button" class={state === 'off' ? 'primary' : ''} onClick={() => change(state === 'off')} disabled={busy} aria-busy={busy} aria-describedby="push-state">
              {state === 'off' ? t('people.push.turnOn') : t('people.push.turnOff')}
            </button>
          )}
        </>
      )}
      <ErrorBox error={error} />
      <p class="muted">{t('people.push.what')}</p>
    </section>
  );
}
