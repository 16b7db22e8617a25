"""A labelled set for the paraphrase ("spun" text) detector: clean paragraphs and spun copies.

Run from the repository root:  .venv/bin/python bench/make_spun_set.py [--out FILE.jsonl]

Clean documents are the seeds 000, 001, 002 and 004 (their English paragraphs after our
own extraction and normalisation) and the human gold text of each page of
../shared/boilerplate-dev (AGPL-3.0: read in place, never copied into the project; the
JSONL written by --out holds its text, so keep such files outside the repository). The
paragraph-level set is their paragraphs of 40+ words. Pages are split in halves by name:
thresholds are chosen on "tune", figures reported on "test" (the seeds are "test").
Spun documents are the same paragraphs passed through `spin()`, a synonym-substitution
script written for this benchmark: like article spinners, it swaps word forms for
"synonyms" from a thesaurus without looking at the sense or part of speech a word has
in its sentence, and it does not repair the text around a swap ("a" before a new
vowel-initial word stays "a"). Its thesaurus is general English written for this file;
it is not taken from seed 003 and the detector never sees it.

Seed 003 (real spun text from an unknown spinner) is kept apart as `real_spun` items:
an out-of-sample check, never used to choose thresholds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.core.config import PipelineConfig  # noqa: E402
from pipeline.core.records import Article  # noqa: E402
from pipeline.core.textutil import count_words  # noqa: E402
from pipeline.stages.prepare import Prepared, prepare_document  # noqa: E402

MIN_PARAGRAPH_WORDS = 40
SPIN_RATES = (0.3, 0.7, 1.0)
CLEAN_SEEDS = ("000", "001", "002", "004")
REAL_SPUN_SEEDS = ("003",)
DEFAULT_BOILERPLATE_DEV = REPO.parent / "shared" / "boilerplate-dev"

# Sense-blind, as spinners are: one entry per word form, synonyms of any of its senses and
# parts of speech mixed ("help" the noun and "help" the verb get the same list).
THESAURUS: dict[str, tuple[str, ...]] = {
    "said": ("stated", "remarked", "declared", "noted"),
    "says": ("states", "remarks", "declares", "notes"),
    "say": ("state", "remark", "declare", "express"),
    "told": ("informed", "notified", "advised"),
    "tell": ("inform", "notify", "advise"),
    "person": ("individual", "human", "character"),
    "persons": ("individuals", "humans", "characters"),
    "year": ("twelve months", "annum"),
    "years": ("decades", "seasons", "annums"),
    "time": ("period", "occasion", "moment", "instance"),
    "times": ("periods", "occasions", "instances"),
    "week": ("seven days", "sennight"),
    "government": ("administration", "regime", "governance"),
    "country": ("nation", "land", "countryside"),
    "countries": ("nations", "lands", "states"),
    "company": ("firm", "corporation", "enterprise", "companionship"),
    "companies": ("firms", "corporations", "enterprises"),
    "new": ("fresh", "novel", "modern", "recent"),
    "big": ("huge", "massive", "hefty", "sizable"),
    "large": ("huge", "sizable", "massive", "big"),
    "small": ("little", "tiny", "minor", "petite"),
    "important": ("crucial", "essential", "vital", "significant"),
    "good": ("nice", "fine", "superb", "decent"),
    "bad": ("poor", "awful", "terrible", "lousy"),
    "high": ("tall", "elevated", "lofty", "superior"),
    "low": ("minimal", "reduced", "humble"),
    "many": ("numerous", "countless", "plenty of"),
    "several": ("numerous", "various", "a number of"),
    "first": ("initial", "earliest", "foremost"),
    "last": ("final", "concluding", "endure", "past"),
    "next": ("subsequent", "following", "upcoming"),
    "early": ("premature", "initial", "untimely"),
    "long": ("lengthy", "prolonged", "extended", "yearn"),
    "old": ("aged", "elderly", "ancient", "former"),
    "former": ("previous", "ex", "prior"),
    "major": ("key", "significant", "main", "primary"),
    "main": ("primary", "principal", "chief", "key"),
    "different": ("distinct", "diverse", "dissimilar"),
    "whole": ("entire", "complete", "full"),
    "full": ("complete", "entire", "packed"),
    "free": ("totally free", "cost-free", "liberate", "release"),
    "hard": ("tough", "difficult", "challenging", "firm"),
    "difficult": ("tough", "challenging", "hard"),
    "easy": ("simple", "effortless", "uncomplicated"),
    "clear": ("obvious", "evident", "apparent", "distinct"),
    "recent": ("current", "latest", "new"),
    "recently": ("lately", "not long ago", "newly"),
    "often": ("frequently", "regularly", "commonly"),
    "also": ("additionally", "likewise", "furthermore"),
    "however": ("nevertheless", "nonetheless", "even so"),
    "because": ("since", "as", "due to the fact that"),
    "very": ("extremely", "really", "highly", "incredibly"),
    "really": ("actually", "truly", "genuinely"),
    "never": ("not ever", "at no time", "by no means"),
    "only": ("just", "merely", "solely", "simply"),
    "again": ("once more", "anew", "afresh"),
    "now": ("currently", "presently", "at present"),
    "help": ("assist", "aid", "support"),
    "helps": ("assists", "aids", "supports"),
    "helped": ("assisted", "aided", "supported"),
    "use": ("utilize", "employ", "apply"),
    "uses": ("utilizes", "employs", "applies"),
    "used": ("utilized", "employed", "applied"),
    "using": ("utilizing", "employing", "applying"),
    "make": ("create", "generate", "produce", "brand"),
    "makes": ("creates", "generates", "produces"),
    "made": ("created", "produced", "generated"),
    "get": ("obtain", "acquire", "receive", "gain"),
    "gets": ("obtains", "acquires", "receives"),
    "got": ("obtained", "acquired", "received"),
    "give": ("provide", "offer", "grant", "supply"),
    "gave": ("provided", "offered", "granted"),
    "take": ("grab", "seize", "accept", "consume"),
    "took": ("grabbed", "seized", "accepted"),
    "show": ("display", "exhibit", "reveal", "present"),
    "shows": ("displays", "exhibits", "reveals"),
    "showed": ("displayed", "exhibited", "revealed"),
    "find": ("discover", "locate", "detect"),
    "found": ("discovered", "located", "established"),
    "think": ("believe", "suppose", "reckon", "consider"),
    "thought": ("considered", "believed", "notion", "supposed"),
    "know": ("realize", "recognize", "understand"),
    "want": ("desire", "wish", "crave", "lack"),
    "wanted": ("desired", "wished", "craved"),
    "need": ("require", "demand", "necessity"),
    "needs": ("requires", "demands", "necessities"),
    "needed": ("required", "demanded", "necessary"),
    "start": ("commence", "initiate", "begin", "launch"),
    "started": ("commenced", "initiated", "began"),
    "began": ("commenced", "initiated", "started"),
    "keep": ("retain", "preserve", "maintain"),
    "kept": ("retained", "preserved", "maintained"),
    "move": ("shift", "relocate", "transfer", "motion"),
    "moved": ("shifted", "relocated", "transferred"),
    "change": ("alter", "transform", "adjust", "shift"),
    "changes": ("alters", "transforms", "adjusts", "shifts"),
    "changed": ("altered", "transformed", "adjusted"),
    "build": ("construct", "erect", "assemble"),
    "built": ("constructed", "erected", "assembled"),
    "buy": ("purchase", "acquire", "procure"),
    "bought": ("purchased", "acquired", "procured"),
    "sell": ("vend", "trade", "peddle"),
    "try": ("attempt", "endeavor", "strive"),
    "tried": ("attempted", "endeavored", "strived"),
    "ask": ("inquire", "request", "query"),
    "asked": ("inquired", "requested", "queried"),
    "run": ("operate", "manage", "sprint", "dash"),
    "runs": ("operates", "manages", "sprints"),
    "lead": ("guide", "direct", "head", "steer"),
    "led": ("guided", "directed", "headed"),
    "leave": ("depart", "exit", "abandon", "vacation"),
    "left": ("departed", "exited", "abandoned", "remaining"),
    "live": ("reside", "dwell", "inhabit", "alive"),
    "lived": ("resided", "dwelled", "inhabited"),
    "work": ("labor", "function", "operate", "toil"),
    "works": ("labors", "functions", "operates"),
    "worked": ("labored", "functioned", "operated"),
    "play": ("perform", "participate", "frolic"),
    "pay": ("compensate", "remunerate", "wage", "salary"),
    "paid": ("compensated", "remunerated", "settled"),
    "win": ("triumph", "prevail", "victory", "earn"),
    "won": ("triumphed", "prevailed", "earned"),
    "lose": ("misplace", "forfeit", "shed"),
    "lost": ("misplaced", "forfeited", "shed"),
    "hold": ("grasp", "grip", "retain", "clutch"),
    "held": ("grasped", "gripped", "retained"),
    "bring": ("deliver", "carry", "fetch"),
    "brought": ("delivered", "carried", "fetched"),
    "happen": ("occur", "transpire", "befall"),
    "happened": ("occurred", "transpired", "befell"),
    "allow": ("permit", "enable", "authorize"),
    "allowed": ("permitted", "enabled", "authorized"),
    "include": ("comprise", "encompass", "involve"),
    "includes": ("comprises", "encompasses", "involves"),
    "continue": ("proceed", "persist", "resume"),
    "continued": ("proceeded", "persisted", "resumed"),
    "increase": ("boost", "raise", "enhance", "augment"),
    "increased": ("boosted", "raised", "enhanced"),
    "report": ("document", "notify", "chronicle", "statement"),
    "reports": ("documents", "notifies", "chronicles"),
    "reported": ("documented", "notified", "chronicled"),
    "problem": ("issue", "difficulty", "trouble", "snag"),
    "problems": ("issues", "difficulties", "troubles"),
    "question": ("query", "inquiry", "interrogate", "doubt"),
    "questions": ("queries", "inquiries", "doubts"),
    "way": ("method", "manner", "route", "path"),
    "ways": ("methods", "manners", "routes"),
    "place": ("location", "spot", "site", "position"),
    "area": ("region", "zone", "district", "sector"),
    "world": ("globe", "planet", "earth"),
    "home": ("house", "residence", "dwelling"),
    "house": ("home", "residence", "dwelling", "accommodate"),
    "money": ("funds", "currency", "wealth"),
    "cost": ("expense", "price", "charge"),
    "price": ("cost", "value", "charge"),
    "market": ("marketplace", "bazaar", "advertise", "promote"),
    "job": ("occupation", "employment", "task", "chore"),
    "group": ("cluster", "bunch", "crowd", "collection"),
    "family": ("household", "clan", "kin"),
    "children": ("kids", "youngsters", "offspring"),
    "child": ("kid", "youngster", "offspring"),
    "man": ("guy", "gentleman", "fellow"),
    "woman": ("lady", "female"),
    "women": ("ladies", "females"),
    "friend": ("buddy", "pal", "companion"),
    "friends": ("buddies", "pals", "companions"),
    "leader": ("chief", "head", "boss"),
    "leaders": ("chiefs", "heads", "bosses"),
    "story": ("tale", "narrative", "yarn", "floor"),
    "news": ("information", "tidings", "headlines"),
    "idea": ("concept", "notion", "thought"),
    "result": ("outcome", "consequence", "upshot"),
    "results": ("outcomes", "consequences", "findings"),
    "reason": ("cause", "motive", "rationale", "argue"),
    "power": ("strength", "energy", "might", "electrify"),
    "law": ("legislation", "statute", "rule"),
    "plan": ("scheme", "intend", "strategy", "blueprint"),
    "plans": ("schemes", "intends", "strategies"),
    "service": ("provision", "assistance", "maintenance"),
    "case": ("situation", "instance", "circumstance", "suitcase"),
    "fact": ("reality", "truth", "certainty"),
    "point": ("level", "issue", "indicate", "tip"),
    "number": ("quantity", "amount", "figure", "digit"),
    "level": ("degree", "stage", "grade", "flatten"),
    "car": ("vehicle", "automobile", "motor"),
    "cars": ("vehicles", "automobiles", "motors"),
    "book": ("publication", "volume", "reserve", "tome"),
    "game": ("match", "contest", "sport"),
    "team": ("squad", "crew", "staff"),
    "water": ("liquid", "irrigate", "moisten"),
    "food": ("cuisine", "nourishment", "fare"),
    "death": ("demise", "passing", "fatality"),
    "war": ("conflict", "warfare", "battle"),
    "attack": ("assault", "raid", "strike", "assail"),
    "attacks": ("assaults", "raids", "strikes"),
    "support": ("back", "endorse", "assist", "backing"),
    "supported": ("backed", "endorsed", "assisted"),
    "study": ("examine", "analyze", "research", "investigate"),
    "research": ("investigate", "examine", "explore"),
    "phone": ("telephone", "ring", "handset"),
    "customers": ("clients", "consumers", "buyers"),
    "quickly": ("rapidly", "swiftly", "speedily"),
    "nearly": ("almost", "practically", "virtually"),
    "almost": ("nearly", "practically", "virtually"),
    "probably": ("likely", "presumably", "possibly"),
    "together": ("jointly", "collectively", "mutually"),
    "enough": ("sufficient", "adequate", "ample"),
    "possible": ("feasible", "achievable", "attainable"),
    "true": ("accurate", "correct", "genuine"),
    "real": ("genuine", "authentic", "actual"),
    "strong": ("powerful", "robust", "sturdy"),
    "happy": ("pleased", "glad", "content", "joyful"),
    "great": ("excellent", "wonderful", "terrific", "huge"),
    "best": ("finest", "top", "greatest", "optimum"),
    "better": ("superior", "improved", "finer", "improve"),
    "public": ("community", "populace", "open"),
    "local": ("regional", "neighborhood", "nearby"),
    "national": ("nationwide", "countrywide", "domestic"),
    "foreign": ("alien", "exotic", "external"),
    "political": ("governmental", "partisan", "civic"),
    "economic": ("financial", "fiscal", "monetary"),
    "security": ("safety", "protection", "safeguard"),
    "president": ("chairman", "head", "chief"),
    "meeting": ("assembly", "gathering", "conference", "encounter"),
    "decision": ("choice", "resolution", "verdict"),
    "answer": ("response", "reply", "respond", "solution"),
    "care": ("treatment", "concern", "attention", "tend"),
    "life": ("existence", "being", "lifetime"),
    "body": ("physique", "frame", "entity"),
    "head": ("skull", "chief", "lead", "direct"),
    "mind": ("intellect", "brain", "psyche", "object"),
    "night": ("evening", "nighttime", "dark"),
    "street": ("road", "avenue", "lane"),
    "streets": ("roads", "avenues", "lanes"),
    "state": ("condition", "declare", "assert", "province"),
    "share": ("portion", "stake", "divide", "distribute"),
    "shared": ("divided", "distributed", "split"),
    "open": ("unlock", "unfold", "accessible", "exposed"),
    "close": ("shut", "near", "seal", "intimate"),
    "closed": ("shut", "sealed", "locked"),
    "fire": ("blaze", "flame", "dismiss", "inferno"),
    "light": ("illumination", "ignite", "gentle", "pale"),
    "hit": ("strike", "smack", "punch", "success"),
    "fight": ("battle", "combat", "brawl", "struggle"),
    "face": ("confront", "encounter", "visage", "countenance"),
    "faced": ("confronted", "encountered", "met"),
    "feel": ("sense", "perceive", "touch"),
    "felt": ("sensed", "perceived", "touched"),
    "look": ("glance", "gaze", "appear", "search"),
    "looked": ("glanced", "gazed", "appeared"),
    "watch": ("observe", "view", "monitor", "timepiece"),
    "learn": ("discover", "master", "grasp"),
    "read": ("peruse", "scan", "interpret"),
    "set": ("place", "establish", "collection", "fix"),
    "meet": ("satisfy", "fulfill", "encounter", "gather"),
    "turn": ("rotate", "spin", "convert", "revolve"),
    "turned": ("rotated", "spun", "converted"),
    "become": ("grow to be", "turn into", "come to be"),
    "became": ("grew to be", "turned into", "came to be"),
    "remain": ("stay", "linger", "persist"),
    "remained": ("stayed", "lingered", "persisted"),
    "believe": ("trust", "suppose", "presume"),
    "expected": ("anticipated", "predicted", "envisaged"),
    "announced": ("declared", "proclaimed", "publicized"),
    "received": ("obtained", "acquired", "collected"),
    "released": ("launched", "unveiled", "discharged"),
    "killed": ("slain", "murdered", "slaughtered"),
    "arrested": ("detained", "apprehended", "seized"),
    "charged": ("accused", "billed", "indicted"),
    "agreed": ("consented", "concurred", "assented"),
    "decided": ("resolved", "determined", "settled"),
    "spent": ("expended", "consumed", "exhausted"),
    "rest": ("relax", "remainder", "repose"),
    "side": ("facet", "aspect", "flank", "edge"),
    "view": ("regard", "perspective", "observe", "vista"),
    "order": ("command", "sequence", "request", "arrange"),
    "record": ("document", "register", "log", "chronicle"),
    "control": ("regulate", "manage", "govern", "restrain"),
    "visit": ("tour", "drop by", "stopover"),
    "review": ("assess", "examine", "critique", "appraise"),
    "design": ("devise", "layout", "style", "conceive"),
    "return": ("come back", "restore", "revert", "yield"),
    "offer": ("provide", "present", "supply", "proposal"),
    "claim": ("assert", "allege", "declare", "contend"),
    "claims": ("asserts", "alleges", "declares"),
    "release": ("launch", "unveil", "discharge", "liberate"),
    "sign": ("signal", "indication", "endorse", "autograph"),
    "focus": ("concentrate", "emphasis", "center", "target"),
    "impact": ("affect", "influence", "effect", "collision"),
    "access": ("reach", "entry", "retrieve", "admission"),
    "act": ("behave", "perform", "deed", "statute"),
    "action": ("motion", "deed", "activity", "act"),
    "age": ("era", "epoch", "mature", "generation"),
    "board": ("plank", "panel", "embark", "committee"),
    "break": ("fracture", "shatter", "interval", "pause"),
    "cause": ("induce", "trigger", "reason", "motive"),
    "check": ("verify", "inspect", "examine", "cheque"),
    "deal": ("cope", "handle", "bargain", "transaction"),
    "drive": ("steer", "propel", "push", "campaign"),
    "effect": ("impact", "consequence", "influence"),
    "experience": ("undergo", "encounter", "expertise"),
    "form": ("shape", "configure", "type", "variety"),
    "hope": ("wish", "aspire", "optimism", "expectation"),
    "interest": ("curiosity", "attention", "fascinate", "attraction"),
    "matter": ("issue", "subject", "topic", "count"),
    "note": ("observe", "remark", "memo", "notice"),
    "part": ("portion", "segment", "component", "section"),
    "process": ("procedure", "method", "handle", "treat"),
    "range": ("variety", "array", "span", "spectrum"),
    "rate": ("charge", "fee", "price", "pace"),
    "respect": ("esteem", "regard", "honor", "admire"),
    "risk": ("danger", "hazard", "jeopardize", "threat"),
    "rule": ("govern", "regulation", "principle"),
    "stand": ("endure", "tolerate", "stall", "booth"),
    "step": ("stride", "pace", "phase", "stage"),
    "stop": ("halt", "cease", "end", "discontinue"),
    "test": ("examination", "exam", "assess", "evaluation"),
    "trade": ("commerce", "exchange", "swap", "business"),
    "vote": ("ballot", "poll", "elect"),
    "wish": ("desire", "want", "yearn"),
    "cover": ("conceal", "shield", "protect", "deal with"),
    "demand": ("require", "insist", "request", "need"),
    "force": ("compel", "oblige", "strength", "coerce"),
    "push": ("shove", "press", "thrust"),
    "approach": ("tactic", "method", "strategy", "near"),
    "address": ("handle", "tackle", "deal with", "location"),
    "damage": ("harm", "injury", "destruction", "impair"),
    "struggle": ("strive", "wrestle", "battle", "fight"),
    "concern": ("worry", "matter", "anxiety", "fear"),
    "concerns": ("worries", "matters", "anxieties"),
    "aim": ("goal", "intend", "target", "objective"),
    "lack": ("deficiency", "shortage", "absence", "need"),
    "back": ("rear", "support", "return", "endorse"),
    "call": ("phone", "summon", "label", "dub"),
    "calls": ("phones", "summons", "labels"),
    "called": ("phoned", "summoned", "labelled", "dubbed"),
    "come": ("arrive", "approach", "appear"),
    "came": ("arrived", "approached", "appeared"),
    "go": ("proceed", "travel", "depart", "advance"),
    "went": ("proceeded", "travelled", "departed"),
    "going": ("proceeding", "heading", "travelling"),
    "see": ("observe", "notice", "witness", "view"),
    "saw": ("observed", "noticed", "witnessed", "noticed"),
    "seen": ("observed", "noticed", "witnessed"),
    "put": ("place", "position", "set", "lay"),
    "end": ("finish", "terminate", "cease", "close"),
    "love": ("adore", "cherish", "affection", "adoration"),
    "like": ("enjoy", "fancy", "similar to", "such as"),
    "mean": ("signify", "imply", "denote", "average"),
    "means": ("signifies", "implies", "denotes", "method"),
    "line": ("row", "queue", "border", "boundary"),
    "list": ("record", "catalog", "itemize", "register"),
    "talk": ("chat", "converse", "discuss", "lecture"),
    "talks": ("chats", "converses", "discussions", "lectures"),
    "post": ("publish", "mail", "station", "position"),
    "posted": ("published", "mailed", "stationed"),
    "wait": ("linger", "await", "delay", "pause"),
    "stay": ("remain", "linger", "visit", "reside"),
    "cut": ("slash", "trim", "reduction", "sever"),
    "cuts": ("slashes", "trims", "reductions"),
    "pick": ("choose", "select", "choice", "elect"),
    "join": ("connect", "unite", "enlist", "link"),
    "joined": ("connected", "united", "enlisted"),
    "walk": ("stroll", "march", "hike", "stride"),
    "fall": ("drop", "decline", "plunge", "autumn"),
    "fell": ("dropped", "declined", "plunged"),
    "rise": ("climb", "ascend", "increase", "growth"),
    "rose": ("climbed", "ascended", "increased"),
    "grow": ("expand", "develop", "cultivate"),
    "grew": ("expanded", "developed", "cultivated"),
    "spend": ("expend", "consume", "invest"),
    "save": ("rescue", "conserve", "preserve", "spare"),
    "saved": ("rescued", "conserved", "preserved"),
    "serve": ("provide", "supply", "attend", "function"),
    "served": ("provided", "supplied", "attended"),
    "send": ("dispatch", "transmit", "mail", "ship"),
    "sent": ("dispatched", "transmitted", "mailed"),
    "pass": ("overtake", "elapse", "permit", "ticket"),
    "passed": ("overtook", "elapsed", "approved"),
    "kill": ("slay", "murder", "execute"),
    "die": ("perish", "expire", "pass away"),
    "died": ("perished", "expired", "passed away"),
    "drop": ("fall", "decline", "droplet", "release"),
    "offered": ("provided", "presented", "supplied"),
    "spread": ("distribute", "scatter", "disperse", "expansion"),
    "fix": ("repair", "mend", "correct", "predicament"),
    "plant": ("factory", "sow", "vegetation", "mill"),
    "train": ("coach", "educate", "tutor", "locomotive"),
    "trip": ("journey", "voyage", "stumble", "excursion"),
    "trust": ("rely", "confidence", "faith", "believe"),
    "doubt": ("question", "suspect", "uncertainty", "hesitation"),
    "fear": ("dread", "panic", "worry", "fright"),
    "fears": ("dreads", "panics", "worries"),
    "dream": ("vision", "fantasize", "aspiration", "imagine"),
    "lie": ("recline", "falsehood", "untruth", "rest"),
    "guess": ("suppose", "estimate", "speculate", "hunch"),
    "bet": ("wager", "gamble", "stake"),
    "judge": ("assess", "evaluate", "adjudicate", "referee"),
    "estimate": ("gauge", "calculate", "assess", "appraise"),
    "value": ("worth", "price", "appreciate", "cherish"),
    "benefit": ("advantage", "profit", "gain", "boon"),
    "benefits": ("advantages", "profits", "gains"),
    "average": ("typical", "normal", "mean", "ordinary"),
    "total": ("sum", "entire", "complete", "whole"),
    "deals": ("bargains", "transactions", "copes"),
    "issue": ("problem", "concern", "distribute", "emit"),
    "attempt": ("try", "endeavor", "strive", "effort"),
    "effort": ("endeavor", "attempt", "exertion", "try"),
    "efforts": ("endeavors", "attempts", "exertions"),
    "response": ("reply", "answer", "reaction"),
    "decline": ("refuse", "reject", "decrease", "drop"),
    "growth": ("expansion", "development", "increase"),
    "loss": ("defeat", "forfeiture", "deficit", "damage"),
    "losses": ("defeats", "deficits", "damages"),
    "gain": ("acquire", "obtain", "profit", "earn"),
    "gains": ("acquires", "obtains", "profits"),
    "outcome": ("result", "consequence", "upshot"),
    "challenge": ("defy", "dispute", "obstacle", "contest"),
    "challenges": ("defies", "disputes", "obstacles"),
    "threat": ("menace", "danger", "hazard", "risk"),
    "hopes": ("wishes", "aspires", "expectations"),
    "rules": ("regulations", "principles", "governs"),
    "guide": ("lead", "steer", "manual", "handbook"),
    "shape": ("form", "mold", "figure", "condition"),
    "sound": ("audio", "noise", "seem", "solid"),
    "touch": ("contact", "feel", "handle", "stroke"),
    "notice": ("observe", "detect", "spot", "announcement"),
    "heads": ("skulls", "chiefs", "leads", "directs"),
    "staff": ("personnel", "employees", "workforce", "crew"),
    "officials": ("officers", "authorities", "functionaries"),
    "members": ("participants", "associates", "affiliates"),
    "experts": ("specialists", "authorities", "professionals"),
    "protesters": ("demonstrators", "objectors", "dissenters"),
    "police": ("constabulary", "officers", "patrol"),
    "day": ("date", "daytime", "daylight"),
    "days": ("dates", "daytimes", "occasions"),
    "month": ("four weeks", "moon"),
    "months": ("moons", "four-week periods"),
    "city": ("town", "municipality", "borough", "urban center"),
    "cities": ("towns", "municipalities", "boroughs"),
    "video": ("footage", "recording", "clip"),
    "people": ("individuals", "persons", "populace", "humans"),
    "thing": ("object", "item", "matter", "entity"),
    "things": ("objects", "items", "matters", "entities"),
    "school": ("academy", "institute", "educate", "college"),
    "student": ("pupil", "learner", "scholar"),
    "students": ("pupils", "learners", "scholars"),
    "community": ("neighborhood", "society", "population"),
    "party": ("celebration", "faction", "gathering", "bash"),
    "office": ("bureau", "workplace", "agency", "department"),
    "court": ("tribunal", "woo", "courtyard"),
    "election": ("poll", "ballot", "vote"),
    "elections": ("polls", "ballots", "votes"),
    "policy": ("guideline", "strategy", "protocol"),
    "industry": ("sector", "business", "manufacturing"),
    "data": ("information", "facts", "figures", "statistics"),
    "system": ("structure", "network", "scheme", "arrangement"),
    "product": ("item", "merchandise", "commodity", "goods"),
    "products": ("items", "merchandise", "commodities"),
    "site": ("location", "spot", "venue", "position"),
    "page": ("sheet", "folio", "leaf", "summon"),
    "film": ("movie", "picture", "coating", "shoot"),
    "picture": ("image", "photo", "envision", "depict"),
    "air": ("atmosphere", "broadcast", "ventilate", "breeze"),
    "land": ("ground", "terrain", "arrive", "territory"),
    "field": ("area", "domain", "meadow", "sector"),
    "bank": ("financial institution", "shore", "depend"),
    "store": ("shop", "stock", "outlet", "stash"),
    "stores": ("shops", "stocks", "outlets"),
    "table": ("desk", "chart", "postpone", "counter"),
    "paper": ("document", "newspaper", "essay", "sheet"),
    "voice": ("express", "utter", "tone", "vocalize"),
    "eye": ("watch", "observe", "peeper", "optic"),
    "eyes": ("watches", "observes", "peepers"),
    "hand": ("give", "pass", "fist", "hand over"),
    "hands": ("gives", "passes", "fists"),
    "ground": ("land", "soil", "earth", "base"),
    "wall": ("partition", "barrier", "fence"),
    "road": ("route", "highway", "street", "path"),
    "sense": ("feel", "perceive", "detect", "meaning"),
    "reach": ("attain", "arrive", "achieve", "extent"),
    "reached": ("attained", "arrived", "achieved"),
    "base": ("foundation", "basis", "found", "establish"),
    "based": ("founded", "grounded", "established"),
    "mark": ("sign", "label", "stain", "indicate"),
    "marks": ("signs", "labels", "stains", "indicates"),
    "figure": ("number", "digit", "calculate", "shape"),
    "figures": ("numbers", "digits", "calculates"),
    "short": ("brief", "concise", "compact", "scarce"),
    "quick": ("fast", "rapid", "swift", "speedy"),
    "simple": ("easy", "basic", "plain", "uncomplicated"),
    "special": ("unique", "particular", "distinct", "exceptional"),
    "common": ("usual", "frequent", "shared", "typical"),
    "serious": ("severe", "grave", "solemn", "critical"),
    "huge": ("massive", "enormous", "vast", "giant"),
    "likely": ("probable", "possible", "apt", "presumably"),
    "certain": ("sure", "confident", "particular", "specific"),
    "available": ("accessible", "obtainable", "offered"),
    "key": ("crucial", "vital", "essential", "important"),
    "top": ("peak", "summit", "best", "leading"),
    "past": ("previous", "former", "bygone", "beyond"),
    "future": ("upcoming", "forthcoming", "destiny"),
    "able": ("capable", "competent", "in a position"),
    "certainly": ("surely", "definitely", "undoubtedly"),
    "finally": ("eventually", "ultimately", "at last"),
    "usually": ("typically", "normally", "generally"),
    "especially": ("particularly", "specifically", "notably"),
    "actually": ("really", "truly", "in fact"),
    "currently": ("presently", "now", "at present"),
    "immediately": ("instantly", "promptly", "right away"),
    "simply": ("merely", "just", "basically"),
    "significant": ("substantial", "considerable", "major"),
    "similar": ("comparable", "alike", "equivalent"),
    "various": ("diverse", "assorted", "multiple"),
    "final": ("last", "ultimate", "concluding"),
    "private": ("personal", "confidential", "secret"),
    "popular": ("well-liked", "favored", "fashionable"),
    "poor": ("impoverished", "needy", "inferior"),
    "rich": ("wealthy", "affluent", "prosperous"),
    "young": ("youthful", "juvenile", "junior"),
}

_WORD_RE = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
_SENTENCE_END_RE = re.compile(r"[.!?:;\"“”(]\s*$")


@dataclass(frozen=True)
class LabelledDocument:
    """One document, clean or spun; its paragraphs in order."""

    source: str  # "seed" or "boilerplate-dev"
    document: str  # seed prefix or page name
    split: str  # "tune" (thresholds are chosen on it) or "test" (figures reported on it)
    label: str  # "clean", "spun" (our script) or "real_spun" (seed 003)
    spin_rate: float  # chance that each thesaurus word is swapped; 0 for clean and real_spun
    paragraphs: tuple[str, ...]
    swaps: tuple[int, ...]  # swaps made in each paragraph
    # Paragraphs of the paragraph-level set: 40+ words in the clean text (the same indices
    # in every copy of a document, however the swaps changed the word count).
    long_paragraphs: tuple[int, ...]

    @property
    def is_spun(self) -> bool:
        return self.label != "clean"

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _rng(*parts: object) -> random.Random:
    """A generator seeded by the item, so each spun text is the same whatever the order."""
    return random.Random(hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest())


def spin(text: str, rate: float, rng: random.Random) -> tuple[str, int]:
    """(spun text, number of swaps): each thesaurus word is swapped with probability `rate`.

    Capitalised words inside a sentence (names) and all-capitals words are left alone;
    a sentence-initial word keeps its capital.
    """
    swaps = 0

    def swap(match: re.Match) -> str:
        nonlocal swaps
        word = match.group(0)
        synonyms = THESAURUS.get(word.lower())
        if not synonyms or (len(word) > 1 and word.isupper()):
            return word
        sentence_start = match.start() == 0 or bool(_SENTENCE_END_RE.search(text[:match.start()]))
        if word[0].isupper() and not sentence_start:
            return word
        if rng.random() >= rate:
            return word
        swaps += 1
        new = rng.choice(synonyms)
        return new[0].upper() + new[1:] if word[0].isupper() else new

    return _WORD_RE.sub(swap, text), swaps


def split_of(document: str) -> str:
    """Fixed split by the SHA-1 of the document name: thresholds are tuned on 'tune' only."""
    return "tune" if int(hashlib.sha1(document.encode()).hexdigest(), 16) % 2 == 0 else "test"


def seed_articles(seeds_dir: Path, config: PipelineConfig | None = None) -> dict[str, Article]:
    """Seed prefix ("000") -> its Article through our own ingest, extract and normalize."""
    config = config or PipelineConfig()
    articles = {}
    for path in sorted(seeds_dir.glob("[0-9][0-9][0-9]_*")):
        outcome = prepare_document(seeds_dir, path.name, config)
        if isinstance(outcome, Prepared):
            articles[path.name[:3]] = outcome.article
    return articles


def _english_paragraphs(article: Article) -> tuple[str, ...]:
    return tuple(p.text for p in article.paragraphs if p.language == "en")


def gold_paragraphs(gold_text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in gold_text.split("\n\n") if p.strip())


def spin_document(document: str, paragraphs: tuple[str, ...], rate: float) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Each paragraph spun with its own generator (the same paragraph always spins the same)."""
    spun = [spin(text, rate, _rng(document, index, rate)) for index, text in enumerate(paragraphs)]
    return tuple(t for t, _ in spun), tuple(n for _, n in spun)


def labelled_documents(seeds_dir: Path = REPO / "seeds", data_dir: Path | None = DEFAULT_BOILERPLATE_DEV,
                       rates: tuple[float, ...] = SPIN_RATES) -> list[LabelledDocument]:
    """Every clean document, a spun copy at each rate, and seed 003 as real spun text.

    Clean documents: seeds 000, 001, 002, 004 (their English paragraphs, split "test") and,
    when data_dir exists, the gold text of each boilerplate-dev page (split by name).
    """
    seeds = seed_articles(seeds_dir)
    clean = [("seed", prefix, "test", _english_paragraphs(seeds[prefix]))
             for prefix in CLEAN_SEEDS if prefix in seeds]
    if data_dir is not None and data_dir.is_dir():
        for gold in sorted(data_dir.glob("*.gold.txt")):
            name = gold.name[: -len(".gold.txt")]
            clean.append(("boilerplate-dev", name, split_of(name),
                          gold_paragraphs(gold.read_text(encoding="utf-8"))))
    docs = []
    for source, document, split, paragraphs in clean:
        if not paragraphs:
            continue
        long = _long(paragraphs)
        docs.append(LabelledDocument(source, document, split, "clean", 0.0, paragraphs,
                                     (0,) * len(paragraphs), long))
        for rate in rates:
            spun, swaps = spin_document(document, paragraphs, rate)
            docs.append(LabelledDocument(source, document, split, "spun", rate, spun, swaps, long))
    for prefix in REAL_SPUN_SEEDS:
        if prefix in seeds:
            paragraphs = _english_paragraphs(seeds[prefix])
            docs.append(LabelledDocument("seed", prefix, "test", "real_spun", 0.0, paragraphs,
                                         (0,) * len(paragraphs), _long(paragraphs)))
    return docs


def _long(paragraphs: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, t in enumerate(paragraphs) if count_words(t) >= MIN_PARAGRAPH_WORDS)


def paragraph_items(doc: LabelledDocument) -> list[tuple[int, str]]:
    """(index, text) of the document's paragraphs in the paragraph-level set."""
    return [(i, doc.paragraphs[i]) for i in doc.long_paragraphs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_BOILERPLATE_DEV)
    ap.add_argument("--seeds", type=Path, default=REPO / "seeds")
    ap.add_argument("--out", type=Path, help="write the paragraph-level set as JSON lines "
                    "(it holds boilerplate-dev text: keep the file out of the repository)")
    args = ap.parse_args(argv)
    docs = labelled_documents(args.seeds, args.data)
    counts: dict[tuple[str, str, float], list[int]] = {}
    for doc in docs:
        row = counts.setdefault((doc.split, doc.label, doc.spin_rate), [0, 0, 0, 0])
        row[0] += 1
        row[1] += len(paragraph_items(doc))
        row[2] += sum(doc.swaps)
        row[3] += count_words(doc.text)
    print("split label     rate  documents  paragraphs(40+ words)  swaps per 100 words")
    for (split, label, rate), (n_docs, n_paras, swaps, words) in sorted(counts.items()):
        print(f"{split:5s} {label:9s} {rate:4.1f} {n_docs:10d} {n_paras:21d} {100 * swaps / words:20.2f}")
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for doc in docs:
                for index, text in paragraph_items(doc):
                    fh.write(json.dumps({"document": doc.document, "source": doc.source, "split": doc.split,
                                         "label": doc.label, "spin_rate": doc.spin_rate,
                                         "paragraph_index": index, "swaps": doc.swaps[index], "text": text},
                                        ensure_ascii=False) + "\n")
        print(f"wrote the paragraph-level set to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
