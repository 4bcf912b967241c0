import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { App } from './app';
import { lang, onLangChange } from './i18n';
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

render(<Root />, document.getElementById('app')!);
