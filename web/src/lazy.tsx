// lazy loads a screen's code only when it is first shown, so the first
// screen's script stays small (the operator console and the voice recorder
// are loaded on demand).
import { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n';

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (C) return;
      pending ??= load().then((c) => (loaded = c));
      pending.then(
        (c) => setC(() => c),
        () => {
          pending = null; // let a later visit try again
          setFailed(true);
        },
      );
    }, [C]);
    if (C) return <C {...props} />;
    return (
      <main class="page" aria-busy={!failed}>
        {failed ? <p role="alert">{t('app.loadFailed')}</p> : <p>{t('app.loading')}</p>}
      </main>
    );
  };
}
