// The browser's own bars follow the theme: index.html has a theme-color for
// the system's light and dark; when the person chose a theme in settings
// (<html data-theme>), both say that theme's colour instead.
const colours = { light: '#f3f5f4', dark: '#171e1b' };

function sync(): void {
  const chosen = document.documentElement.dataset.theme;
  document.querySelectorAll<HTMLMetaElement>('meta[name="theme-color"]').forEach((m) => {
    const system = m.media.includes('dark') ? colours.dark : colours.light;
    m.content = chosen === 'light' || chosen === 'dark' ? colours[chosen] : system;
  });
}

sync();
new MutationObserver(sync).observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
