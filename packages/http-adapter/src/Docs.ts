/**
 * The offline API reference at `/docs`: one self-contained page (no CDN, no
 * external asset) that reads `/beta/openapi.json`, lists every operation by
 * tag, and lets a person send a request with a bearer token.
 *
 * @since 0.1.0
 */

/** The page. */
export const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Enrollment API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#0f4c81;color:#fff;padding:12px 20px}header h1{font-size:18px;margin:0}
main{max-width:1100px;margin:0 auto;padding:12px 20px}
.auth{display:flex;gap:8px;align-items:center;margin:10px 0}.auth input{flex:1;font-family:monospace}
h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:24px}
details{background:#fff;border:1px solid #ddd;border-radius:4px;margin:6px 0}
summary{cursor:pointer;padding:6px 10px;display:flex;gap:10px;align-items:center}
.m{font-weight:700;width:64px;text-align:center;border-radius:3px;color:#fff;padding:1px 0;font-size:12px}
.GET{background:#2f7d32}.POST{background:#1565c0}.PATCH{background:#ef6c00}.DELETE{background:#c62828}
.path{font-family:monospace}.body{padding:8px 12px;border-top:1px solid #eee}
label{display:block;margin:4px 0}label input{font-family:monospace;width:60%}
textarea{width:100%;height:120px;font-family:monospace}pre{background:#222;color:#eee;padding:8px;overflow:auto;max-height:300px}
.perm{color:#555;font-size:12px}
</style></head>
<body><header><h1>Enrollment configuration assignments: Graph (beta) API reference</h1></header>
<main>
<p>Generated from <a href="/beta/openapi.json">/beta/openapi.json</a>. Paste a bearer token to try requests.</p>
<div class="auth"><span>Bearer token</span><input id="token" placeholder="eyJ…"></div>
<div id="ops">Loading…</div>
</main>
<script>
(function(){
  var tokenInput=document.getElementById("token");
  try{tokenInput.value=sessionStorage.getItem("token")||""}catch(e){}
  tokenInput.addEventListener("change",function(){try{sessionStorage.setItem("token",tokenInput.value)}catch(e){}});
  function el(tag,attrs,kids){var e=document.createElement(tag);for(var k in attrs||{}){if(k==="text")e.textContent=attrs[k];else e.setAttribute(k,attrs[k])}(kids||[]).forEach(function(c){e.appendChild(c)});return e}
  fetch("/beta/openapi.json").then(function(r){return r.json()}).then(function(doc){
    var root=document.getElementById("ops");root.textContent="";
    var byTag={};
    Object.keys(doc.paths).forEach(function(p){Object.keys(doc.paths[p]).forEach(function(m){var op=doc.paths[p][m];var t=(op.tags||["other"])[0];(byTag[t]=byTag[t]||[]).push({path:p,method:m.toUpperCase(),op:op})})});
    Object.keys(byTag).sort().forEach(function(tag){
      root.appendChild(el("h2",{text:tag}));
      byTag[tag].forEach(function(o){
        var d=el("details",{"class":"op","data-operation":o.op.operationId});
        d.appendChild(el("summary",{},[el("span",{"class":"m "+o.method,text:o.method}),el("span",{"class":"path",text:o.path}),el("span",{text:o.op.summary||""})]));
        var b=el("div",{"class":"body"});
        b.appendChild(el("div",{"class":"perm",text:o.op.description||""}));
        var inputs={};
        (o.op.parameters||[]).forEach(function(p){var i=el("input",{name:p.name,placeholder:p.in});inputs[p.name]={input:i,where:p.in};b.appendChild(el("label",{text:p.name+" ("+p.in+") "},[i]))});
        var ta=null;if(o.op.requestBody){ta=el("textarea",{placeholder:"JSON body"});ta.value="{}";b.appendChild(ta)}
        var out=el("pre",{"class":"out",text:""});
        var btn=el("button",{type:"button",text:"Send"});
        btn.addEventListener("click",function(){
          var url=o.path,qs=[],headers={};
          Object.keys(inputs).forEach(function(n){var v=inputs[n].input.value;if(!v)return;var w=inputs[n].where;if(w==="path")url=url.replace("{"+n+"}",encodeURIComponent(v));else if(w==="query")qs.push(encodeURIComponent(n).replace("%24","$")+"="+encodeURIComponent(v));else if(w==="header")headers[n]=v});
          if(qs.length)url+="?"+qs.join("&");
          if(tokenInput.value)headers["Authorization"]="Bearer "+tokenInput.value.trim();
          var init={method:o.method,headers:headers};if(ta){headers["Content-Type"]="application/json";init.body=ta.value}
          out.textContent="…";
          fetch(url,init).then(function(r){return r.text().then(function(t){var s=t;try{s=JSON.stringify(JSON.parse(t),null,2)}catch(e){}out.textContent=r.status+" "+r.statusText+"\\nrequest-id: "+r.headers.get("request-id")+"\\n\\n"+s})}).catch(function(e){out.textContent=String(e)});
        });
        b.appendChild(btn);b.appendChild(out);d.appendChild(b);root.appendChild(d);
      });
    });
    document.body.setAttribute("data-ready",String(document.querySelectorAll("details.op").length));
  }).catch(function(e){document.getElementById("ops").textContent="Could not load the API description: "+e});
})();
</script></body></html>`
