/**
 * A stand-in for Stripe.js (https://js.stripe.com/v3/), served by the browser tests in its place: the calls the hosted
 * page makes (`Stripe(pk)`, `elements()`, `create('payment')`, `mount`, `update`, `submit`, `createConfirmationToken`,
 * `handleNextAction`), answered as Stripe.js answers them (`{ error }` or the object), over Stripe's HTTP API (which
 * the test routes to test/fake-stripe.ts). The "Payment Element" is one card-number input; the card picks Stripe's
 * test payment method. `handleNextAction` shows a "3-D Secure" prompt whose buttons complete the intent on the fake
 * (through `/__stand_in/complete_next_action`, which the test answers). What the page passed is kept in
 * `window.__standIn` for the test to read. No inline style (the page's policy allows none).
 */
export const STRIPE_JS_STAND_IN = String.raw`(function(){
var CARDS={'4242424242424242':'pm_card_visa','4000000000000002':'pm_card_chargeDeclined','4000002760003184':'pm_card_threeDSecure2Required'};
var seen=window.__standIn={keys:[],options:[],updates:[],tokens:[]};
function enc(o,prefix,out){out=out||[];for(var k in o){var v=o[k],n=prefix?prefix+'['+k+']':k;if(v==null)continue;if(typeof v==='object')enc(v,n,out);else out.push(encodeURIComponent(n)+'='+encodeURIComponent(v))}return out.join('&')}
window.Stripe=function(pk,init){
 seen.keys.push(pk);seen.init=init||{};
 function api(method,path,params){return fetch('https://api.stripe.com'+path,{method:method,headers:{authorization:'Bearer '+pk,'content-type':'application/x-www-form-urlencoded'},body:method==='GET'?undefined:enc(params||{})}).then(function(r){return r.json().then(function(j){return{ok:r.ok,body:j}})})}
 var els=null;
 return{
  elements:function(options){var s={options:options,input:null,host:null};seen.options.push(JSON.parse(JSON.stringify(options)));
   function digits(){return s.input?s.input.value.replace(/\D/g,''):''}
   els={_s:s,_digits:digits,
    update:function(x){seen.updates.push(JSON.parse(JSON.stringify(x)));for(var k in x)s.options[k]=x[k];if(s.host)s.host.setAttribute('data-mode',s.options.mode)},
    create:function(type){if(type!=='payment')throw new Error('stand-in: only the payment element');return{
     mount:function(sel){var host=typeof sel==='string'?document.querySelector(sel):sel;var i=document.createElement('input');i.id='stand-in-card';i.setAttribute('aria-label','Card number');i.setAttribute('inputmode','numeric');host.appendChild(i);host.setAttribute('data-mode',s.options.mode);host.setAttribute('data-theme',(s.options.appearance||{}).theme||'');s.input=i;s.host=host},
     destroy:function(){if(s.host)s.host.textContent='';s.input=null;s.host=null},
     focus:function(){if(s.input)s.input.focus()}}},
    submit:function(){return Promise.resolve(digits().length<12?{error:{type:'validation_error',code:'incomplete_number',message:'Your card number is incomplete.'}}:{})}};
   return els},
  createConfirmationToken:function(a){if(!a||a.elements!==els)return Promise.resolve({error:{type:'integration_error',message:'stand-in: pass the elements'}});
   seen.tokens.push(JSON.parse(JSON.stringify(a.params||{})));
   var pm=CARDS[els._digits()];if(!pm)return Promise.resolve({error:{type:'validation_error',code:'invalid_number',message:'Your card number is invalid.'}});
   var o=els._s.options,p={payment_method:pm,return_url:(a.params||{}).return_url};if(o.setupFutureUsage)p.setup_future_usage=o.setupFutureUsage;
   return api('POST','/v1/test_helpers/confirmation_tokens',p).then(function(r){return r.ok?{confirmationToken:r.body}:{error:r.body.error}})},
  handleNextAction:function(a){var cs=a&&a.clientSecret||'',id=cs.split('_secret_')[0],setup=id.indexOf('seti_')===0;seen.nextAction=cs;
   return new Promise(function(resolve){var box=document.createElement('div');box.id='stand-in-3ds';box.setAttribute('role','dialog');
    var h=document.createElement('p');h.textContent='3-D Secure';box.appendChild(h);
    ['Complete','Fail'].forEach(function(label){var btn=document.createElement('button');btn.type='button';btn.textContent=label;btn.addEventListener('click',function(){
     var outcome=label==='Complete'?'succeed':'fail';box.remove();
     api('POST','/__stand_in/complete_next_action',{intent:id,outcome:outcome}).then(function(){return api('GET','/v1/'+(setup?'setup_intents/':'payment_intents/')+id)}).then(function(r){
      var it=r.body,err=setup?it.last_setup_error:it.last_payment_error;
      if(outcome==='fail'||it.status==='requires_payment_method')resolve({error:err||{type:'invalid_request_error',message:'Authentication failed.'}});
      else resolve(setup?{setupIntent:it}:{paymentIntent:it})})});box.appendChild(btn)});
    document.body.appendChild(box)})}
 }}
})()`
