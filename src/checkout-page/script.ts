/**
 * The checkout page's enhancement, plain ES2017 (no framework, no build step). Without it the page
 * still works as a form post; with it totals update live through the client API, errors appear
 * without a reload, and payment shows progress until the session settles.
 *
 * Embedded (`data-embed-origin`, see render.ts), it posts Polar's `POLAR_CHECKOUT` messages to exactly that
 * origin, never '*' (`clients/apps/web/src/hooks/checkout.ts`, `components/Checkout/Embed/` in Polar):
 * `loaded` on every page, `close` from the close button or a click beside the checkout, `confirmed` once
 * confirm is accepted, and `success` with `successURL` and `redirect` only once the session has settled.
 *
 * On a Stripe session's page (`#k-stripe`, the Payment Element's options; Stripe.js is loaded just before this
 * script) the card is Stripe's Payment Element, and paying is Polar's flow: `elements.submit()`, a
 * ConfirmationToken from `stripe.createConfirmationToken`, then confirm with its id; when the intent asks for
 * 3-D Secure (`intent_status: requires_action`), `stripe.handleNextAction` before waiting for the session to settle.
 * Failed (the session is open again), the form can pay again. The page of a confirmed session whose 3-D Secure was left
 * unfinished (`#k-next`: a reload, a closed prompt) offers a button that runs `handleNextAction` again, and polls meanwhile.
 */
export const SCRIPT = String.raw`(function(){
var d=document,b=d.body,secret=b.getAttribute('data-secret'),eo=b.getAttribute('data-embed-origin');
function post(ev,x){if(!eo)return;var m={type:'POLAR_CHECKOUT',event:ev};for(var k in x||{})m[k]=x[k];parent.postMessage(m,eo)}
if(eo){var cl=d.getElementById('k-close');if(cl)cl.addEventListener('click',function(){post('close')});
 d.documentElement.addEventListener('click',function(e){if(e.target===b||e.target===d.documentElement)post('close')});
 post('loaded')}
if(!secret)return;
var api='/v1/checkouts/client/'+secret,page=location.pathname+location.search;
var lang=d.getElementById('k-locale');if(lang)lang.addEventListener('change',function(){lang.form.submit()});
// A session that opens again while this page waits (3-D Secure failed) is paid again on the form; a failure shown here goes with it.
if(b.getAttribute('data-poll')){post('confirmed');var nx=d.getElementById('k-next');if(nx)verify(JSON.parse(nx.textContent));
 poll(function(){var m=d.getElementById('k-verify-error');try{if(m&&m.textContent)sessionStorage.setItem('k-failed-'+secret,m.textContent)}catch(e){}location.reload()});return}
var form=d.getElementById('k-form');if(!form)return;
var msgs=JSON.parse(d.getElementById('k-msgs').textContent),cur=b.getAttribute('data-currency').toUpperCase();
var digits=new Intl.NumberFormat('en',{style:'currency',currency:cur}).resolvedOptions().maximumFractionDigits;
var pending=0,timers={};
function $(id){return d.getElementById(id)}
var stripe=null,elements=null,pe=null,sfail=false;
function sopts(){var n=$('k-stripe');return n?JSON.parse(n.textContent):null}
function eopts(o){var x={mode:o.mode,currency:o.currency};if(o.amount!=null)x.amount=o.amount;if(o.setup_future_usage)x.setupFutureUsage=o.setup_future_usage;return x}
function dark(){var th=d.documentElement.getAttribute('data-theme');return th?th==='dark':!!(window.matchMedia&&matchMedia('(prefers-color-scheme: dark)').matches)}
// The Element in the page's own colours (styles.ts), light or dark as the page is.
function appearance(){var cs=getComputedStyle(b);function c(n){return cs.getPropertyValue(n).trim()}
 return{theme:dark()?'night':'stripe',variables:{colorPrimary:c('--accent'),colorBackground:c('--card'),colorText:c('--fg'),colorDanger:c('--err'),fontFamily:cs.fontFamily,borderRadius:'8px'}}}
function cardErr(m){var e=$('card_number-err');if(e)e.textContent=m;else $('k-form-error').textContent=m}
// The bank refused 3-D Secure: said in the buyer's language (Stripe's message is about the API, not them).
function failure(e,m){return e&&/authentication_failure$/.test(e.code||'')?m.verification_failed:e&&e.message||m.something_wrong}
function stripeError(e){cardErr(failure(e,msgs))}
function mountStripe(){var o=sopts();if(!o)return;
 if(typeof Stripe!=='function'){sfail=true;cardErr(msgs.stripe_unavailable);return}
 try{var l=b.getAttribute('data-locale');stripe=stripe||Stripe(o.publishable_key,{locale:l==='pt-PT'?'pt':l});var x=eopts(o);x.appearance=appearance();elements=stripe.elements(x);pe=elements.create('payment');pe.mount('#k-payment-element');sfail=false}
 catch(e){sfail=true;cardErr(msgs.stripe_unavailable)}}
// After a live refresh: the mounted Element stays (replacing its container would unmount it) and takes the new options.
function card(doc,all){var n=doc.getElementById('k-stripe');
 if(!pe){if(all){swap(doc,'k-card');mountStripe()}return}
 if(!n){swap(doc,'k-card');pe.destroy();pe=elements=null;return}
 $('k-stripe').textContent=n.textContent;elements.update(eopts(JSON.parse(n.textContent)))}
// The card as a ConfirmationToken (Polar's flow); false when Stripe.js refused it (its message is shown).
function tokenize(body,mail){return elements.submit().then(function(r){if(r.error)return r;var bd={email:mail},n=v('customer_name');if(n)bd.name=n;
 return stripe.createConfirmationToken({elements:elements,params:{payment_method_data:{billing_details:bd},return_url:location.href}})}).then(function(r){
 if(r.error){stripeError(r.error);return false}body.confirmation_token_id=r.confirmationToken.id;return true})}
function pay(){return $('k-pay')}
function busy(on){pending+=on?1:-1;var p=pay();p.disabled=pending>0;p.classList.toggle('busy',pending>0);p.setAttribute('aria-busy',pending>0?'true':'false')}
function idOf(n){return n.indexOf('custom_field_data.')===0?'cf-'+n.slice(18):n.replace(/\./g,'-')}
function el(n){return form.elements[n]}
// A first check before the server's (src/lib/email.ts): the same length limits, in linear time.
function okMail(x){var a=x.lastIndexOf('@'),l=x.slice(0,a),d=x.slice(a+1);return x.length<=254&&a>0&&l.length<=64&&d.indexOf('.')>0&&!/\s/.test(x)&&/^[^@]+$/.test(l)&&/[A-Za-z]$/.test(d)&&d.split('.').every(function(p){return p.length>0&&p.length<=63})}
function v(n){var e=el(n);if(!e)return undefined;if(e.type==='checkbox')return e.checked?'true':'';if(e.length&&!e.tagName){for(var i=0;i<e.length;i++)if(e[i].checked)return e[i].value;return undefined}return e.value}
function clearErrors(){var es=form.querySelectorAll('.err');for(var i=0;i<es.length;i++)es[i].textContent='';var inv=form.querySelectorAll('[aria-invalid]');for(i=0;i<inv.length;i++)inv[i].removeAttribute('aria-invalid');$('k-form-error').textContent=''}
function setError(n,m){var e=$(idOf(n)+'-err'),i=$(idOf(n));if(e)e.textContent=m;else $('k-form-error').textContent=m;if(i)i.setAttribute('aria-invalid','true');return i}
function message(issue){var loc=issue.loc.slice(1),n=loc.join('.');
 if(n==='confirmation_token_id')return['card_number',msgs.card_invalid];
 if(loc[0]==='discount_code')return['discount_code',/no longer/.test(issue.msg)?msgs.discount_gone:msgs.discount_invalid];
 if(loc[0]==='amount')return['amount',msgs.amount_error||msgs.fix_errors];
 if(issue.type==='missing')return[n,msgs.field_required];
 if(loc[0]==='customer_email')return[n,msgs.email_invalid];
 return[n,msgs.fix_errors]}
function showIssues(detail){var first;for(var i=0;i<detail.length;i++){var m=message(detail[i]);var f=setError(m[0],m[1]);first=first||f}if(first&&first.focus)first.focus()}
function swap(doc,id){var a=$(id),n=doc.getElementById(id);if(a&&n)a.replaceWith(n);else if(a&&!n)a.innerHTML=''}
function refresh(all){return fetch(page,{headers:{accept:'text/html','x-kassa-fragment':'1'},credentials:'same-origin',cache:'no-store'}).then(function(r){return r.text()}).then(function(h){var doc=new DOMParser().parseFromString(h,'text/html');
 ['k-product-name','k-headline','k-breakdown','k-discount','k-pay-label','k-sum'].forEach(function(id){swap(doc,id)});
 if(all)['k-fields','k-amount'].forEach(function(id){swap(doc,id)});card(doc,all)})}
function send(body,all){busy(true);return fetch(api,{method:'PATCH',headers:{'content-type':'application/json'},body:JSON.stringify(body)}).then(function(r){
 if(r.status===410||r.status===403){location.reload();return}
 return r.json().then(function(j){if(r.status===422){showIssues(j.detail||[]);return false}if(!r.ok){$('k-form-error').textContent=msgs.something_wrong;return false}return refresh(all).then(function(){return true})})
}).catch(function(){$('k-form-error').textContent=msgs.something_wrong}).then(function(x){busy(false);return x})}
function minor(s){s=String(s).replace(/\s/g,'').replace(',','.');if(!/^\d+(\.\d{1,3})?$/.test(s))return null;return Math.round(Number(s)*Math.pow(10,digits))}
function debounce(k,fn,ms){clearTimeout(timers[k]);timers[k]=setTimeout(fn,ms)}

form.addEventListener('change',function(e){var t=e.target;if(t.name==='product_id'){clearErrors();send({product_id:t.value},true)}
 if(t.name&&t.name.indexOf('customer_billing_address.')===0)debounce('addr',saveAddress,500)});
function address(){var c=v('customer_billing_address.country');if(!c)return undefined;var a={country:c};['line1','line2','city','postal_code','state'].forEach(function(k){var x=v('customer_billing_address.'+k);if(x)a[k]=x});return a}
function saveAddress(){var a=address();if(a)send({customer_billing_address:a})}
var email=el('customer_email');if(email)email.addEventListener('blur',function(){var x=email.value.trim();if(x&&okMail(x))send({customer_email:x})});
// Delegated: the card and amount inputs are replaced when the product changes.
form.addEventListener('input',function(e){var t=e.target,s;
 if(t.name==='card_number'){s=t.value.replace(/\D/g,'').slice(0,19);t.value=s.replace(/(.{4})(?=.)/g,'$1 ')}
 else if(t.name==='card_expiry'&&e.inputType!=='deleteContentBackward'){s=t.value.replace(/\D/g,'').slice(0,4);t.value=s.length>2?s.slice(0,2)+' / '+s.slice(2):s}
 else if(t.name==='amount')debounce('amount',function(){var m=minor(t.value);clearErrors();if(m===null){setError('amount',msgs.amount_error);return}send({amount:m})},400)});
function luhn(s){var t=0;for(var i=0;i<s.length;i++){var n=+s[s.length-1-i];if(i%2){n*=2;if(n>9)n-=9}t+=n}return t%10===0}
function token(){var s=(v('card_number')||'').replace(/\D/g,'');if(s==='4000000000000002')return'tok_sandbox_decline';if(s==='4000000000000341')return'tok_sandbox_fail_capture';return s.length>=12&&luhn(s)?'tok_sandbox_success':null}
function cardErrors(){var errs=[];if(!el('card_number'))return errs;if(!token())errs.push(['card_number',msgs.card_invalid]);
 var m=/^(\d{2})\s*\/?\s*(\d{2})$/.exec(v('card_expiry')||''),now=new Date();if(!m||+m[1]<1||+m[1]>12||new Date(2000+ +m[2],+m[1],1)<=now)errs.push(['card_expiry',msgs.expiry_invalid]);
 if(!/^\d{3,4}$/.test(v('card_cvc')||''))errs.push(['card_cvc',msgs.cvc_invalid]);return errs}
function fields(){var o={},es=form.elements;for(var i=0;i<es.length;i++){var n=es[i].name;if(n&&n.indexOf('custom_field_data.')===0){var x=v(n);o[n.slice(18)]=x===''?null:es[i].type==='checkbox'?x==='true':es[i].type==='number'&&x!==''?Number(x):x}}return o}
function confirm(){clearErrors();var errs=[],mail=(v('customer_email')||'').trim();
 if(!mail)errs.push(['customer_email',msgs.field_required]);else if(!okMail(mail))errs.push(['customer_email',msgs.email_invalid]);
 errs=errs.concat(cardErrors());if(errs.length){var f;errs.forEach(function(x){f=f||setError(x[0],x[1])});f&&f.focus();return}
 for(var k in timers)clearTimeout(timers[k]);// a save still waiting would hit the confirmed session (403) and reload the page; confirm sends it all
 var body={customer_email:mail,customer_name:v('customer_name')||null,custom_field_data:fields(),locale:v('locale')};
 var a=address();if(a)body.customer_billing_address=a;var amt=el('amount');if(amt){var m=minor(amt.value);if(m!==null)body.amount=m}
 if(el('card_number'))body.confirmation_token_id=token();
 if(sfail){cardErr(msgs.stripe_unavailable);return}
 busy(true);(pe?tokenize(body,mail):Promise.resolve(true)).then(function(ok){if(!ok){busy(false);return}
 return fetch(api+'/confirm',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(body)}).then(function(r){return r.json().then(function(j){
  if(r.ok){var lbl=$('k-pay-label'),was=lbl.textContent,m=j.payment_processor_metadata||{};lbl.textContent=msgs.processing;post('confirmed');
   // 3-D Secure: Stripe.js shows the bank's challenge; then the session settles (or, failed, opens again to retry).
   if(pe&&m.intent_status==='requires_action'&&m.intent_client_secret)return stripe.handleNextAction({clientSecret:m.intent_client_secret}).then(function(x){if(x.error)stripeError(x.error);poll(function(){busy(false);lbl.textContent=was})});
   poll();return}
  busy(false);if(r.status===422)showIssues(j.detail||[]);else if(r.status===400){$('k-form-error').textContent=pe&&j.detail?j.detail:msgs.card_declined;var c=el('card_number');c?c.focus():pe&&pe.focus()}else if(r.status===410||r.status===403)location.reload();else $('k-form-error').textContent=msgs.something_wrong})
 })}).catch(function(){busy(false);$('k-form-error').textContent=msgs.something_wrong})}
mountStripe();
try{var failed=sessionStorage.getItem('k-failed-'+secret);if(failed){sessionStorage.removeItem('k-failed-'+secret);cardErr(failed)}}catch(e){}
// Enter in a field submits with the form's first submit button (Apply): Enter in the code field applies it, elsewhere it pays.
var enter=null;form.addEventListener('keydown',function(e){if(e.key==='Enter'&&e.target.tagName==='INPUT'){enter=e.target.name;setTimeout(function(){enter=null},0)}});
form.addEventListener('submit',function(e){var s=e.submitter,act=enter?(enter==='discount_code'?'apply_discount':'pay'):s&&s.value;enter=null;e.preventDefault();
 if(act==='apply_discount'){clearErrors();var c=(v('discount_code')||'').trim();if(!c){setError('discount_code',msgs.discount_invalid);return}send({discount_code:c},true)}
 else if(act==='remove_discount'){send({discount_code:null},true)}
 else if(act==='update'){send({product_id:v('product_id')},true)}
 else if(!pending)confirm()});
// reopened: what to do when the session is open again (a Stripe payment whose 3-D Secure failed); else it keeps waiting.
function poll(reopened){fetch(api,{cache:'no-store'}).then(function(r){return r.json()}).then(function(c){
 if(c.status==='succeeded'){succeeded(c);return}
 if(c.status==='failed'||c.status==='expired'){location.reload();return}
 if(c.status==='open'&&reopened){reopened();return}
 setTimeout(function(){poll(reopened)},700)}).catch(function(){setTimeout(function(){poll(reopened)},1500)})}
// The page of a confirmed session whose buyer left 3-D Secure unfinished (a reload, a closed prompt): its button runs it again.
function verify(o){var btn=d.getElementById('k-verify'),er=d.getElementById('k-verify-error'),st=null;
 function wait(on){btn.disabled=on;btn.classList.toggle('busy',on);btn.setAttribute('aria-busy',on?'true':'false')}
 btn.addEventListener('click',function(){er.textContent='';
  try{st=st||Stripe(o.publishable_key,{locale:o.locale})}catch(e){er.textContent=o.msgs.stripe_unavailable;return}
  wait(true);st.handleNextAction({clientSecret:o.intent_client_secret}).then(function(x){
   if(x.error){wait(false);er.textContent=failure(x.error,o.msgs);return}
   btn.hidden=true;d.getElementById('k-state-title').textContent=o.msgs.processing;d.getElementById('k-state-text').textContent=o.msgs.processing_text})
  .catch(function(){wait(false);er.textContent=o.msgs.something_wrong})})}
// Kassa's own confirmation page stays in the overlay (embedded, same theme); the merchant's success_url is
// for the embedding page to open (redirect: true), as Polar's embed does.
function succeeded(c){var u=c.success_url,own=u.indexOf(c.url)===0;
 if(eo&&own){var p=new URL(u),th=d.documentElement.getAttribute('data-theme');p.searchParams.set('embed','true');if(th)p.searchParams.set('theme',th);u=p.toString()}
 post('success',{successURL:u,redirect:!own});if(own||!eo)location.assign(u)}
})()`
