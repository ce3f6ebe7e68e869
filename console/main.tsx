import { render } from 'preact';
import { App } from './app.tsx';
import './style.css';

const root = document.getElementById('app')!;
root.textContent = ''; // the page's "Loading…" line: preact renders beside what it did not create
render(<App />, root);
