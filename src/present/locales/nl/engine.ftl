# Woorden van de weigeringen van de afrekenmodule en van de conflicten van
# een vastgesteld jaar (`present::engine`). Elke id heeft een Engelse
# tweeling in ../en/engine.ftl.

engine-conflict-many-settled = { $n } afrekeningen zijn vastgesteld en geen ervan vervangt de andere ({ $hashes }): de ondertekenaars moeten het over één afrekening eens worden en opnieuw vaststellen
engine-conflict-input-void = invoercijfer { $input } van de vastgestelde afrekening is ongeldig (ondertekend met een sleutel die is beëindigd zonder dat dit cijfer aan die beëindiging voorafging): het cijfer moet opnieuw worden ingediend en { $year } opnieuw worden vastgesteld
engine-conflict-input-corrected = invoercijfer { $indicator } { $period } ({ $input }) is gecorrigeerd door { $by } nadat { $year } was vastgesteld: stel { $year } opnieuw vast om de correctie te verwerken
engine-conflict-input-disputed = invoercijfer { $indicator } { $period } ({ $input }) van de vastgestelde afrekening wordt betwist door { $parties }
engine-conflict-previous-resettled = de vastgestelde afrekening gaat uit van afrekening { $recorded } van { $previous }, die opnieuw is vastgesteld als { $now }: stel { $year } opnieuw vast
engine-conflict-many-agreed = { $n } verschillende versies zijn overeengekomen ({ $hashes }); niets is van kracht tot de partijen dit met een wijziging of anderszins oplossen
engine-conflict-many-amendments = { $n } wijzigingen die ingaan in { $year } zijn overeengekomen ({ $hashes }); dat jaar en de jaren erna volgen de laatste eenduidige versie tot dit is opgelost

engine-no-contract = dit grootboek bevat geen contract { $contract } (`vereffen contract list` toont de contracten)
engine-not-in-force = contract { $contract } is niet van kracht: er valt niets af te rekenen voordat elke ondertekenaar een versie heeft getekend
engine-outside-term = { $year } valt buiten de looptijd { $first }-{ $last } van het contract
engine-carry-malformed = de overgedragen stand van de vastgestelde afrekening van { $year } is onleesbaar ({ $why })
engine-no-version = geen versie van { $contract } geldt voor { $year }

engine-blocked = { $n } cijfer(s) van { $year } niet akkoord:
engine-blocker = { $year } { $indicator } { $period }: { $state } (aan zet: { $parties })
engine-state-missing = ontbreekt
engine-state-pending = wacht op akkoord
engine-state-disputed = betwist
engine-state-conflict = in conflict
engine-state-overflow = te groot om exact op te tellen
engine-cannot-settle = { $year } kan niet worden afgerekend: { $why }
engine-cannot-settle-hint = (`vereffen measure list { $contract } --year { $year }` toont ze; --draft berekent toch een voorlopige afrekening)

engine-failed = { $year }: { $why }
engine-err-outside-term = jaar { $year } valt buiten de looptijd { $first }-{ $last } van het contract
engine-err-carry-order = de overgedragen stand hoort bij de afrekening van { $expected }, niet van { $year }: reken de jaren op volgorde af
engine-err-missing = ontbrekende cijfers: { $figures }
engine-err-figure = { $indicator } ({ $year })
engine-err-invalid = ongeldig cijfer { $figure }: { $reason }
engine-err-overflow = { $figure } is niet te berekenen: de uitkomst is te groot
engine-err-division-by-zero = { $figure } is niet te berekenen: deling door nul
engine-err-too-many-years = er kunnen hoogstens { $n } jaren tegelijk worden afgerekend
engine-err-not-canonical = het contract heeft geen canonieke vorm (valideer het eerst): { $why }
