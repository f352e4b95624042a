# ruff: noqa: E501 - regex tables read best with one alternation group per line
"""Hand-named, language-independent cue features (question, request, intent keywords, emoji, kaomoji, 「w」).

They let a model trained mostly on English data transfer to Japanese: "refund" and 「返金」 light the
same feature, so the weight learned for one serves the other.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["CUE_NAMES", "cue_matrix"]

_CUES: dict[str, str] = {
    "qmark": r"[?？]",
    "qmark_end": r"[?？][\s\W]*$",
    "wh_start": r"^\W*(?:who|what|when|where|why|how|which|is|are|do|does|did|can|could|will|would|should|any|anyone)\b",
    "request": (
        r"\b(?:please|pls|plz|help|can (?:you|i|someone)|could you|would you|need (?:to|a|an|my|help)|i'?d like"
        r"|want (?:to|my)|how (?:do|can|long|much)|let me know|dm me|advise|any (?:update|news|chance|way)"
        r"|wondering|is there (?:a|any)|tell me|send (?:me|another)|fix)\b"
        r"|"
        r"(?:ますか|ですか|でしょうか|ませんか|かな[ぁあ]?|教えて|ほしい|欲しい|ください|下さい|お願い|たいです|たいんです"
        r"|どうすれば|どうしたら|どこ|いつ|できる[?？]|ますが|ですが|んですけど|んだけど|てもらえ|いただけ|知りたい|確認して)"
    ),
    "waiting": (
        r"\b(?:still (?:waiting|no|not|hasn'?t|haven'?t|says)|hasn'?t (?:arrived|shipped|moved|come)|haven'?t (?:received|got)"
        r"|never (?:arrived|came|got)|where'?s my|where is my)\b|まだ(?:届|来|発送|返金|反映|準備)|届かない|来ない|届いてない|されてない|されない"
    ),
    "rhetorical": (
        r"\b(?:seriously|who designed|how hard is it|what is even|never again|love that for me|unbelievable|what a joke"
        r"|why would anyone|yeah no)\b|ありえない|ふざけ|売る気|意味ない|謎|かよ|なんなの|どうなってんの"
    ),
    "kw_order": (
        r"\b(?:order(?:ed|s)?|package|parcel|deliver(?:y|ed)?|ship(?:ping|ped|ment)?|tracking|courier|arriv(?:e|ed)|dispatch)\b"
        r"|注文|荷物|配送|配達|発送|届|追跡|到着|キャンセル|お届け"
    ),
    "kw_returns": r"\b(?:return(?:s|ed|ing)?|refund(?:s|ed)?|exchange|money back|swap|send (?:it|this) back)\b|返品|返金|交換|返送",
    "kw_billing": (
        r"\b(?:charg(?:e|ed|es)|billing|billed|invoice|payment|pay|paid|card|paypal|account|password|log ?in|subscription"
        r"|promo|coupon|discount|code|receipt|gift card|unsubscribe)\b"
        r"|請求|支払|決済|引き落と|ログイン|パスワード|アカウント|退会|解約|クーポン|領収書|ポイント|カード|会員|払い|学割|メールアドレス"
    ),
    "kw_technical": (
        r"\b(?:app|website|site|crash(?:es|ed)?|error|bug|load(?:ing)?|not working|doesn'?t work|won'?t|update|pair"
        r"|screen|button|browser|down|freez(?:e|es)|timing out|firmware|android|iphone|safari|404|500)\b"
        r"|アプリ|エラー|落ち|バグ|不具合|表示|反応|画面|ペアリング|ログアウト|読み込|フリーズ|アップデート|サイト|起動|ローディング|接続"
    ),
    "kw_product": (
        r"\b(?:size|sizes|fit(?:s)?|run small|run large|stock|restock(?:ed)?|available|colou?r|material|compatible"
        r"|dishwasher|waterproof|ingredients|dimensions|sensitive skin|which one|recommend|gift wrap(?:ping)?)\b"
        r"|サイズ|在庫|再入荷|色|素材|対応機種|使えますか|成分|おすすめ|防水|ラッピング|店舗|何日"
    ),
    "kw_complaint": (
        r"\b(?:worst|terrible|awful|disappoint(?:ed|ing)|garbage|useless|rude|cheap|joke|overpriced|ridiculous|never)\b"
        r"|最悪|ひどい|酷い|がっかり|ありえない|雑|無理|残念|ふざけ|期待外れ|意味ない|怒"
    ),
    "kw_praise": (
        r"\b(?:love|great|amazing|thank(?:s| you)|best|perfect|happy|obsessed|awesome|adore|recommend|comfiest|cute)\b"
        r"|ありがとう|最高|かわい|可愛|好き|神|助か|よかった|良かった|感動|気に入|素晴らし|リピ"
    ),
    "lex_pos": (
        r"\b(?:love[ds]?|loving|happy|happiness|glad|excited|exciting|fun|enjoy(?:ed|ing)?|beautiful|wonderful|fantastic|excellent"
        r"|amazing|awesome|great|good|nice|cool|best|perfect|yay|congrat\w*|proud|lucky|delicious|yummy|cute|blessed|thank\w*"
        r"|grateful|smile|laugh(?:ing)?|win(?:ner|ning)?|favou?rite|relax(?:ed|ing)?|hope|hopeful|can'?t wait|looking forward"
        r"|adore|brilliant|incredible|lovely|sweet|fabulous|delight\w*|thrilled|glorious|joy|cheers|woo+|hooray|yay+|enjoy"
        r"|success\w*|celebrat\w*|gorgeous|stunning|legend(?:ary)?|epic|stoked|pumped)\b|<3"
        r"|嬉し|うれし|楽し|たのし|幸せ|しあわせ|最高|好き|大好き|ありがと|感謝|美味し|おいし|うまい|かわい|可愛|綺麗|きれい|素敵|すてき"
        r"|素晴らし|面白|おもしろ|癒|笑顔|わくわく|ワクワク|ドキドキ|楽しみ|よかった|良かった|安心|感動|やった|頑張|がんば|おめでと"
        r"|いいね|最強|尊い|神|満足|快適|気持ちい|ほっこり|元気|喜|愛し|ほっと|ホッと|助かっ|達成|合格|成功|優勝|勝った|感激|ありがた"
        r"|心地|穏やか|ラッキー|ハッピー|テンション上が|至福|ご褒美|はしゃ|キュン|ときめ|推し|エモ|懐かし|爽やか|楽しかった"
        r"|盛り上が|ウケ|爆笑|満喫|堪能|かっこい|カッコい|かっこよ|天才|誇ら|応援|待ち遠し|わーい|やったー|すごい|凄い|♪|♡|❤"
    ),
    "lex_neg": (
        r"\b(?:hate[ds]?|sad|sadly|angry|mad|upset|annoy(?:ed|ing)?|awful|terrible|horrible|worst|bad|sick|tired|hurt|pain"
        r"|cry(?:ing)?|depress\w*|lonely|scared|afraid|fear|worr(?:y|ied)|stress(?:ed|ful)?|fail(?:ed|ure)?|sucks?|damn"
        r"|disappoint\w*|miss(?:ing)?|sorry|unfortunately|boring|ugh|wtf|rip|die[ds]?|dead|kill\w*|broke(?:n)?|lost"
        r"|anxious|anxiety|nervous|frustrat\w*|furious|pissed|hell|sucked|crap|shit|worse|nightmare|exhausted|lonely"
        r"|heartbroken|ashamed|embarrass\w*|regret\w*|hopeless|useless|stupid|idiot|ruin(?:ed|s)?)\b"
        r"|悲し|かなし|辛い|つらい|しんど|疲れ|つかれ|最悪|嫌|いや[だな]|むかつ|ムカつ|腹立|イライラ|怖|こわ|寂し|さみし|淋し"
        r"|不安|心配|痛|泣|涙|残念|がっかり|ショック|落ち込|憂鬱|だる|ダル|うざ|ウザ|やだ|ひどい|酷い|苦し|眠れな|死|無理|困"
        r"|後悔|失敗|怒|絶望|虚し|切な|ストレス|寒い|暑すぎ|めんど|面倒|嫌い|最低|腹が立|頭にく|キレ|許せな|うんざり|げんなり"
        r"|鬱|体調|具合|頭痛|吐き気|寝不足|緊張|焦|不満|悔し|惨め|恥ずかし|ごめん|迷惑|限界|萎え|凹|へこ|落胆|失望|ため息|はぁ"
        r"|残業|辞めたい|帰りたい|行きたくない|恐怖|危な|孤独|失恋|やばい|ヤバい|泣きそう|しにたい|消えたい|嘆|ぴえん|つらみ|地獄"
    ),
    "url": r"\bhttp\b|https?://|www\.|bit\.ly",
    "emoji_pos": r"[😀😃😄😁😆😊☺😍🥰😘🤩👍🙌👏💕💖💗❤♥✨🎉🥳😻⭐🌟💯😂🤣]",
    "emoji_neg": r"[😠😡🤬😤😢😭😞😔😟😩😫🙄😒👎💢😑😐😕☹🙁😣😖]",
    "kaomoji_pos": r"[(（][^)）]{0,8}[∀▽ω´`ᴗ◕][^)）]{0,8}[)）]|[＾^]{1}[_ｰー]?[＾^]|\(\*?´?[∀▽]",
    "kaomoji_neg": r"[(（][^)）]{0,6}[;；TＴ][^)）]{0,6}[)）]|´・ω・｀|\(怒\)|（怒）|orz|OTL",
    "laugh": r"(?:[wｗ]{2,}|[wｗ]$|草|笑|\blol\b|\blmao\b|\bhaha)",
    "exclaim": r"[!！]",
}
CUE_NAMES = tuple(_CUES)
_COMPILED = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _CUES.values()]


def cue_matrix(texts: list[str]) -> np.ndarray:
    """Dense (len(texts), len(CUE_NAMES)) float32 matrix of log1p cue counts."""
    out = np.zeros((len(texts), len(_COMPILED)), dtype=np.float32)
    for i, text in enumerate(texts):
        snippet = (text or "")[:2000]  # the cues live in the first lines; keeps 10k-char posts cheap
        for j, pattern in enumerate(_COMPILED):
            n = len(pattern.findall(snippet))
            if n:
                out[i, j] = np.log1p(n)
    return out
