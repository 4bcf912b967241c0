// Verification in settings: confirm a phone number with the code sent by
// SMS (showing the resend wait and the attempts left), and submit an
// identity document for review, showing its status and the reviewer's reason.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, Me } from '../api';
import { useSession } from '../app';
import { describedBy, ErrorBox, Field } from '../ui';
import { t } from '../i18n';
import { words } from '../words';

interface CodeSent {
  status: string;
  expires_at: string;
  resend_after: string;
  /** outbox: the server writes codes to its development outbox instead of sending them. */
  delivery?: 'sms' | 'outbox';
}

/** useSecondsUntil counts down to a moment, re-rendering every second. */
function useSecondsUntil(at: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (at <= Date.now()) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [at]);
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function PhoneVerification() {
  const { me, setMe } = useSession();
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [sentTo, setSentTo] = useState('');
  const [outbox, setOutbox] = useState(false);
  const [resendAt, setResendAt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [done, setDone] = useState('');
  const wait = useSecondsUntil(resendAt);

  if (me.verification?.phone) {
    return (
      <p>
        {t('verification.phone')} <strong>{t('verification.verified')}</strong>. {done}
      </p>
    );
  }

  const refusal = (err: unknown) => {
    if (err instanceof ApiError && err.code === 'rate_limited') {
      const s = Number(err.details.retry_after_seconds);
      if (s > 0) setResendAt(Date.now() + s * 1000);
    }
    const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
    if (f.phone || f.code) setFields(f);
    else setError(err);
  };

  const send = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setFields({});
    setBusy(true);
    try {
      const r = await api<CodeSent>('POST', '/me/phone', { phone: phone.trim() });
      setSentTo(phone.trim());
      setOutbox(r.delivery === 'outbox');
      setResendAt(new Date(r.resend_after).getTime());
      setCode('');
    } catch (err) {
      refusal(err);
    } finally {
      setBusy(false);
    }
  };

  const verify = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setFields({});
    setBusy(true);
    try {
      await api('POST', '/me/phone/verify', { code: code.trim() });
      setMe(await api<Me>('GET', '/me'));
      setDone(t('verification.thankYou'));
    } catch (err) {
      refusal(err);
    } finally {
      setBusy(false);
    }
  };

  const codeError = fields.code ? t('verification.theCodeCode', { code: fields.code }) : undefined;
  const phoneHint = t('verification.withTheCountryCode');
  const codeHint = t('verification.enterThe6Digits', { sentTo });
  return (
    <div>
      <p>
        {t('verification.phone')} <strong>{t('verification.notVerified')}</strong>. {t('verification.chattingAndContactRequests')}
      </p>
      <form onSubmit={send}>
        <Field id="phone" label={t('verification.phoneNumber')} error={fields.phone} hint={phoneHint}>
          <div class="row">
            <input
              id="phone"
              type="tel"
              autoComplete="tel"
              value={phone}
              required
              onInput={(e) => setPhone(e.currentTarget.value)}
              aria-invalid={fields.phone ? true : undefined}
              aria-describedby={describedBy('phone', fields.phone, phoneHint)}
            />
            <button type="submit" disabled={busy || wait > 0}>
              {sentTo ? t('verification.sendANewCode') : t('verification.sendCode')}
            </button>
          </div>
        </Field>
      </form>
      {wait > 0 && (
        <p class="muted" role="status">
          {t('verification.youCanAskFor', { seconds: wait })}
        </p>
      )}
      {sentTo && outbox && (
        <p class="notice" role="note">
          {t('verification.outbox')}
        </p>
      )}
      {sentTo && (
        <form onSubmit={verify}>
          <Field id="phone-code" label={t('verification.verificationCode')} error={codeError} hint={codeHint}>
            <div class="row">
              <input
                id="phone-code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
                aria-invalid={codeError ? true : undefined}
                aria-describedby={describedBy('phone-code', codeError, codeHint)}
              />
              <button type="submit" class="primary" disabled={busy}>
                {t('verification.verify')}
              </button>
            </div>
          </Field>
        </form>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

const identityWords = words<string>({
  none: 'verification.identityWords.none',
  pending: 'verification.identityWords.pending',
  verified: 'verification.identityWords.verified',
  rejected: 'verification.identityWords.rejected',
});

export function IdentityVerification() {
  const { me, setMe } = useSession();
  const [legalName, setLegalName] = useState('');
  const [docType, setDocType] = useState('national_id');
  const [docNumber, setDocNumber] = useState('');
  const [country, setCountry] = useState('CN');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const status = me.verification?.identity ?? 'none';
  const reason = me.verification?.identity_reason;

  // Refresh when opened: a review may have been decided meanwhile.
  useEffect(() => {
    api<Me>('GET', '/me').then(setMe, () => {});
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setFields({});
    setBusy(true);
    try {
      await api('POST', '/me/identity', {
        legal_name: legalName.trim(),
        document_type: docType,
        document_number: docNumber.trim(),
        document_country: country.trim().toUpperCase(),
      });
      setMe(await api<Me>('GET', '/me'));
      setDocNumber('');
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (Object.keys(f).length) setFields(f);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const countryHint = t('verification.countryHint');
  const canSubmit = status === 'none' || status === 'rejected';
  return (
    <div>
      <p>
        {t('verification.identity')} <strong data-testid="identity-status">{identityWords[status] ?? status}</strong>.
        {status === 'rejected' && reason ? t('verification.reasonReasonYouCan', { reason }) : ''}
        {status === 'pending' ? t('verification.aReviewerWillDecide') : ''}
      </p>
      {canSubmit && (
        <form onSubmit={submit}>
          <p class="muted">{t('verification.publishingAPublicAccount')}</p>
          <Field id="legal-name" label={t('verification.legalName')} error={fields.legal_name}>
            <input
              id="legal-name"
              autoComplete="name"
              required
              value={legalName}
              onInput={(e) => setLegalName(e.currentTarget.value)}
              aria-invalid={fields.legal_name ? true : undefined}
              aria-describedby={describedBy('legal-name', fields.legal_name)}
            />
          </Field>
          <Field id="doc-type" label={t('verification.documentType')} error={fields.document_type}>
            <select id="doc-type" value={docType} onChange={(e) => setDocType(e.currentTarget.value)}>
              <option value="national_id">{t('verification.nationalIdCard')}</option>
              <option value="passport">{t('verification.passport')}</option>
            </select>
          </Field>
          <Field id="doc-number" label={t('verification.documentNumber')} error={fields.document_number}>
            <input
              id="doc-number"
              required
              value={docNumber}
              onInput={(e) => setDocNumber(e.currentTarget.value)}
              aria-invalid={fields.document_number ? true : undefined}
              aria-describedby={describedBy('doc-number', fields.document_number)}
            />
          </Field>
          <Field id="doc-country" label={t('verification.issuingCountry')} error={fields.document_country} hint={countryHint}>
            <input
              id="doc-country"
              required
              maxLength={2}
              value={country}
              onInput={(e) => setCountry(e.currentTarget.value)}
              aria-invalid={fields.document_country ? true : undefined}
              aria-describedby={describedBy('doc-country', fields.document_country, countryHint)}
            />
          </Field>
          <ErrorBox error={error} />
          <button type="submit" class="primary" disabled={busy}>
            {t('verification.submitForReview')}
          </button>
        </form>
      )}
    </div>
  );
}
