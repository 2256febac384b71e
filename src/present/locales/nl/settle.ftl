# Woorden van de afrekeningsdocumenten van branch `corrections`:
# correctiebetalingen na een herafrekening (`settle`), twee afrekeningen
# vergeleken (`settle diff`). Elk id heeft een Engelse tweeling in
# ../en/settle.ftl.

settle-col-party = PARTIJ
settle-col-before = EERDER VASTGESTELD
settle-col-now = NU
settle-col-correction = CORRECTIE
settle-col-line = REGEL
settle-col-a = A
settle-col-b = B
settle-col-difference = B - A

settle-corr-heading = CORRECTIES TEN OPZICHTE VAN DE VERVANGEN AFREKENING { $hash }
settle-corr-note-settled = (de afrekening die eerder is vastgesteld en betaald en door deze is vervangen: per partij wat zij per saldo toen en nu ontvangt of betaalt)
settle-corr-note-open = (de vastgestelde, al betaalde afrekening; ondertekenen van deze met --resettle vervangt haar: per partij wat zij per saldo toen en nu ontvangt of betaalt)
settle-corr-payments = CORRECTIEBETALINGEN (VAN -> NAAR: wie het verschil aan wie terugbetaalt)
settle-corr-none = geen correctiebetalingen: elke partij ontvangt en betaalt wat zij eerder deed
settle-corr-csv-replaces = vervangen afrekening
settle-corr-csv-before = eerder vastgesteld (boven 0: ontvangt)
settle-corr-csv-now = nu (boven 0: ontvangt)
settle-corr-csv-correction = correctie (boven 0: ontvangt; onder 0: betaalt terug)

settle-diff-heading = AFREKENINGEN VERGELEKEN { $contract } { $year }
settle-diff-side = { $side }  afrekening { $hash }: { $what }
settle-diff-current = wat deze kopie nu berekent
settle-diff-settled = de vastgestelde afrekening
settle-diff-replaced = een vervangen afrekening (eerder vastgesteld, daarna herafgerekend)
settle-diff-signed = ondertekend door { $parties }, niet vastgesteld
settle-diff-lines = BEREKENING, REGEL VOOR REGEL
settle-diff-no-line = -
settle-diff-payments = BETALINGEN (VAN -> NAAR)
settle-diff-parties = KASSTROOM PER SALDO PER PARTIJ
settle-diff-results = RESULTAAT PER PARTIJ (verdiend, of gedragen onder 0)
settle-diff-same = de twee afrekeningen hebben dezelfde regels, betalingen en partijen

settle-sum-heading = OVERZICHT LOOPTIJD { $contract } { $first }-{ $last }
settle-sum-sign-rule = (bedragen in { $currency }; elke betaling leest VAN -> NAAR; per partij: ontvangen, betaald, en wat zij per saldo ontvangt of betaalt)
settle-col-year = JAAR
settle-col-state = STAND
settle-col-statement = AFREKENING
settle-state-settled = vastgesteld
settle-state-settled-in-conflict = vastgesteld, conflict
settle-state-signed = ondertekend, niet vastgesteld
settle-state-computable = berekenbaar, niet ondertekend
settle-state-open = open
settle-sum-cash = KASSTROOM PER PARTIJ (wat er bewoog: elke betaling, voorschotten en aflossingen inbegrepen)
settle-col-received = ONTVANGEN
settle-col-paid = BETAALD
settle-col-loans-in = LENINGEN IN
settle-col-loans-out = LENINGEN UIT
settle-col-on-balance = PER SALDO
settle-sum-result = RESULTAAT PER PARTIJ (verdiend of gedragen: voorschotten en hun aflossingen zijn leningen, geen resultaat)
settle-col-result = RESULTAAT
settle-sum-term = looptijd
settle-sum-balances = SALDI AAN HET EINDE VAN HET JAAR
settle-sum-advance = openstaand voorschot { $impulse } van { $year }: { $recipient } is { $payer } verschuldigd ({ $funding })
settle-sum-losses = verliezen overgedragen naar volgende jaren
settle-sum-top-ups = aanvullingen omzetgarantie (binnen het jaar verrekend, niets overgedragen)
settle-sum-open = NOG OPEN
settle-sum-nothing-open = niets: elk jaar is vastgesteld
settle-sum-no-statement = nog geen afrekening
settle-sum-waiting = wacht op de handtekeningen van { $parties }
settle-sum-blocker = cijfer { $indicator } { $period }: { $state } (aan zet: { $parties })
settle-sum-state-missing = ontbreekt
settle-sum-state-pending = wacht op akkoord
settle-sum-state-disputed = betwist
settle-sum-state-conflict = in conflict

settle-warn-settled-differs = waarschuwing: { $year } is vastgesteld met afrekening { $settled }, maar dit exemplaar berekent nu { $computed }: { $why }
settle-warn-see-status = zie `vereffen settle status`
settle-diff-no-year = { $year } is geen jaar van het geldende contract { $quoted } (`vereffen settle status { $contract }`)
