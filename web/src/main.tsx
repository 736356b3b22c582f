import { render } from 'preact';
import { App } from './app.js';
import '@fontsource-variable/inter/wght.css';
import './styles.css';

render(<App />, document.getElementById('app')!);
