/** The checkout page's CSS: mobile first, light and dark, no framework. */
export const CSS = `
:root{--bg:#f7f7f8;--card:#fff;--fg:#111318;--muted:#5d6472;--line:#e2e4e9;--field:#8a909c;--accent:#2450e6;--accent-fg:#fff;--err:#c4231c;--ok:#17803d;--focus:#2450e680;color-scheme:light}
[data-theme=dark]{--bg:#0f1115;--card:#181b21;--fg:#eef0f4;--muted:#a3aab8;--line:#2c313a;--field:#6b7280;--accent:#6c8cff;--accent-fg:#0b0d12;--err:#ff7b72;--ok:#4ecf7e;--focus:#6c8cff90;color-scheme:dark}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#0f1115;--card:#181b21;--fg:#eef0f4;--muted:#a3aab8;--line:#2c313a;--field:#6b7280;--accent:#6c8cff;--accent-fg:#0b0d12;--err:#ff7b72;--ok:#4ecf7e;--focus:#6c8cff90;color-scheme:dark}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
a{color:var(--accent)}
.wrap{max-width:980px;margin:0 auto;padding:16px}
.grid{display:grid;gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:20px}
.org{font-weight:600;display:flex;align-items:center;gap:8px;margin:0 0 12px}
.back{display:inline-flex;align-items:center;gap:4px;text-decoration:none;color:var(--muted);font-size:14px;margin-bottom:8px}
.back:hover,.back:focus-visible{color:var(--fg)}
h1{font-size:20px;margin:0 0 4px}
.price{font-size:32px;font-weight:700;letter-spacing:-.02em;margin:4px 0}
.price small{font-size:16px;font-weight:500;color:var(--muted)}
.then{color:var(--muted);margin:0 0 8px}
.desc{color:var(--muted);white-space:pre-line;margin:12px 0 0}
fieldset{border:0;padding:0;margin:0 0 16px;min-width:0}
legend,.label{font-size:14px;font-weight:600;margin-bottom:6px;display:block;padding:0}
.choice{display:flex;align-items:center;gap:10px;border:1px solid var(--line);border-radius:10px;padding:10px 12px;margin-bottom:8px;cursor:pointer}
.choice:has(input:checked){border-color:var(--accent);box-shadow:0 0 0 1px var(--accent)}
.choice span{flex:1}.choice small{display:block;color:var(--muted)}
.field{margin-bottom:14px}
label{display:block;font-size:14px;font-weight:500;margin-bottom:4px}
.opt{color:var(--muted);font-weight:400}
input,select,textarea{width:100%;font:inherit;color:inherit;background:var(--card);border:1px solid var(--field);border-radius:8px;padding:10px 12px;min-height:44px}
input[type=radio],input[type=checkbox]{width:20px;height:20px;min-height:0;accent-color:var(--accent);flex:none}
.check{display:flex;gap:10px;align-items:flex-start;font-weight:400}
input:focus-visible,select:focus-visible,textarea:focus-visible,button:focus-visible,a:focus-visible,summary:focus-visible{outline:3px solid var(--focus);outline-offset:1px}
[aria-invalid=true]{border-color:var(--err)}
.err{color:var(--err);font-size:14px;margin:4px 0 0}
.err:empty{display:none}
.hint{color:var(--muted);font-size:13px;margin:4px 0 0}
.row{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.card-row{display:grid;grid-template-columns:2fr 1fr;gap:10px}
.lines{margin:16px 0 0;padding:12px 0 0;border-top:1px solid var(--line)}
.line{display:flex;justify-content:space-between;gap:8px;margin:4px 0;color:var(--muted)}
.line.total{color:var(--fg);font-weight:700;font-size:18px;margin-top:8px}
.line.discount{color:var(--ok)}
details{margin-top:12px}summary{cursor:pointer;color:var(--accent);font-size:14px;width:max-content}
.inline{display:flex;gap:8px;margin-top:8px}.inline input{flex:1}
.applied{display:flex;justify-content:space-between;align-items:center;gap:8px;margin-top:12px;font-size:14px}
button{font:inherit;cursor:pointer;border-radius:8px;min-height:44px;padding:0 16px;border:1px solid var(--line);background:var(--card);color:var(--fg)}
.link-btn{border:0;background:none;color:var(--accent);padding:0 4px;min-height:32px}
.pay{width:100%;border:0;background:var(--accent);color:var(--accent-fg);font-weight:600;font-size:17px;min-height:50px;display:flex;align-items:center;justify-content:center;gap:10px}
.pay[disabled]{opacity:.6;cursor:progress}
.spin{width:18px;height:18px;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;display:none;animation:r .7s linear infinite}
.busy .spin{display:inline-block}p.spin{display:block;width:28px;height:28px;margin:0 0 12px;color:var(--accent)}@keyframes r{to{transform:rotate(360deg)}}
.alert{border:1px solid var(--err);color:var(--err);border-radius:8px;padding:10px 12px;margin:0 0 12px}
.alert:empty{display:none}
/* Phones: the total and the pay button stay at the bottom of the screen; the page keeps room for them. */
.paybar{position:fixed;left:0;right:0;bottom:0;z-index:10;background:var(--card);padding:10px 16px calc(10px + env(safe-area-inset-bottom,0px));border-top:1px solid var(--line);box-shadow:0 -6px 20px rgb(0 0 0/.08)}
body[data-currency]{padding-bottom:128px}html:has(body[data-currency]){scroll-padding-bottom:136px}
.paybar .sum{display:flex;justify-content:space-between;font-weight:600;margin-bottom:8px}
.fine{color:var(--muted);font-size:12px;margin:12px 0 0}
footer{display:flex;justify-content:space-between;align-items:center;gap:12px;color:var(--muted);font-size:13px;padding:8px 16px 24px;max-width:980px;margin:0 auto}
footer form{display:flex;gap:6px;align-items:center}footer select{width:auto;min-height:36px;padding:4px 8px}
.center{max-width:552px;margin:8vh auto;padding:0 16px;text-align:center}
.center .card{text-align:left}
.ok-icon{font-size:40px;line-height:1;margin:0 0 8px;color:var(--ok)}
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;margin:16px 0 0}dt{color:var(--muted)}dd{margin:0;text-align:right;overflow-wrap:anywhere}
@media (max-width:479px){dl{grid-template-columns:1fr;gap:0}dt{font-size:14px}dd{text-align:left;margin-bottom:10px}}
.go{margin:20px 0 0}
.btn{display:inline-flex;align-items:center;justify-content:center;text-decoration:none;background:var(--accent);color:var(--accent-fg);border-radius:8px;min-height:48px;padding:0 20px;font-weight:600;margin-top:16px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (min-width:768px){.grid{grid-template-columns:1fr 1fr;gap:32px;align-items:start}.summary{position:sticky;top:16px}.wrap{padding:40px 24px}.paybar{position:static;border-top:0;padding:4px 0 0;margin-top:8px;box-shadow:none}.paybar .sum{display:none}body[data-currency]{padding-bottom:0}html:has(body[data-currency]){scroll-padding-bottom:0}}
/* Embedded in an overlay iframe (the embedding page dims behind it): the checkout as a floating panel. */
[data-embed],[data-embed] body{background:transparent}
/* A root color-scheme unlike the embedding page's would make the browser paint the frame opaque: the scheme
   moves from the root to the checkout itself. */
:root[data-embed]{color-scheme:normal}[data-embed] main,.k-close{color-scheme:light}[data-embed][data-theme=dark] main,[data-theme=dark] .k-close{color-scheme:dark}
@media (prefers-color-scheme:dark){[data-embed]:not([data-theme=light]) main,:root:not([data-theme=light]) .k-close{color-scheme:dark}}
[data-embed] body{min-height:100vh}
[data-embed] .wrap{background:var(--bg);max-width:940px;margin:48px auto 16px;border-radius:16px;padding:12px;box-shadow:0 24px 64px rgb(0 0 0/.35)}
[data-embed] .center{margin:48px auto 16px}[data-embed] .center>.card{box-shadow:0 24px 64px rgb(0 0 0/.35)}
.k-close{position:fixed;top:8px;right:8px;z-index:20;width:40px;height:40px;min-height:0;padding:0;border-radius:50%;font-size:22px;line-height:1;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 16px rgb(0 0 0/.2)}
@media (min-width:768px){[data-embed] .wrap{padding:24px;margin:56px auto 24px}.k-close{top:16px;right:16px}}
`
