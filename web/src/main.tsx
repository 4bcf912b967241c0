import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { App } from './app';
import './afterSignIn';
import { lang, loadLang, onLangChange } from './i18n';
import { registerServiceWorker } from './offline';
import { navigate } from './router';
import './theme';
import './style.css';

/** Root re-renders the whole client when the language changes, so every t() call runs again. */
function Root() {
  const [l, setL] = useState(lang());
  useEffect(() => onLangChange(setL), []);
  return <App lang={l} />;
}

// A notice clicked while the app is open opens its conversation here.
registerServiceWorker((url) => navigate(url));

const root = document.getElementById('app')!;
// The catalogue of the language in use comes first; if even that cannot be
// fetched, index.html's notice (in both languages) says so rather than
// leaving the page blank.
loadLang().then(
  () => render(<Root />, root),
  () => document.getElementById('load-failed')?.removeAttribute('hidden'),
);
