"""Words for demo posts in each of the demo blog's eleven languages.

Each language has title patterns (``{topic}`` and ``{n}`` are filled in), topics, and
sentences that make up summaries and paragraphs. Some titles carry curly quotes and an
ampersand on purpose: they must survive the trip into every feed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageText:
    titles: tuple[str, ...]
    topics: tuple[str, ...]
    sentences: tuple[str, ...]
    headings: tuple[str, ...]


TEXTS: dict[str, LanguageText] = {
    "en": LanguageText(
        titles=(
            "{topic}: what you need to know",
            "Part {n}: {topic} & self-custody",
            "Why “{topic}” matters more than ever",
            "A practical guide to {topic}",
        ),
        topics=(
            "seed phrases",
            "secure elements",
            "account abstraction",
            "multisig wallets",
            "phishing attacks",
            "firmware updates",
            "Bitcoin miniscript",
            "staking rewards",
        ),
        sentences=(
            "Self-custody means you, and only you, hold the keys to your assets.",
            "Our security team reviewed every step of the process before release.",
            "A secure element is a chip designed to resist physical attacks.",
            "Never type your recovery phrase into a computer or a phone.",
            "The new release ships with clearer transaction previews.",
            "Attackers rarely break cryptography; they trick people instead.",
        ),
        headings=("Why it matters", "How it works", "What comes next"),
    ),
    "ar": LanguageText(
        titles=(
            "{topic}: ما الذي تحتاج إلى معرفته",
            "الجزء {n}: {topic} والحفظ الذاتي",
            "لماذا أصبح «{topic}» أهم من أي وقت مضى",
            "دليل عملي إلى {topic}",
        ),
        topics=(
            "عبارات الاسترداد",
            "العناصر الآمنة",
            "المحافظ متعددة التوقيع",
            "هجمات التصيد",
            "تحديثات البرامج الثابتة",
            "مكافآت التخزين",
        ),
        sentences=(
            "الحفظ الذاتي يعني أنك وحدك تملك مفاتيح أصولك.",
            "راجع فريق الأمان لدينا كل خطوة قبل الإصدار.",
            "العنصر الآمن شريحة مصممة لمقاومة الهجمات المادية.",
            "لا تكتب عبارة الاسترداد أبدًا على حاسوب أو هاتف.",
            "نادرًا ما يكسر المهاجمون التشفير؛ إنهم يخدعون الناس بدلًا من ذلك.",
        ),
        headings=("لماذا يهم ذلك", "كيف يعمل", "ما التالي"),
    ),
    "zh-hans": LanguageText(
        titles=(
            "{topic}：你需要知道的一切",
            "第{n}部分：{topic}与自我托管",
            "为什么“{topic}”比以往任何时候都重要",
            "{topic}实用指南",
        ),
        topics=("助记词", "安全芯片", "多重签名钱包", "网络钓鱼攻击", "固件更新", "质押奖励"),
        sentences=(
            "自我托管意味着只有你自己掌握资产的私钥。",
            "我们的安全团队在发布前审查了每一个步骤。",
            "安全芯片是一种专门抵御物理攻击的芯片。",
            "永远不要在电脑或手机上输入你的恢复短语。",
            "攻击者很少破解密码学，他们更常欺骗用户。",
        ),
        headings=("为什么重要", "工作原理", "下一步"),
    ),
    "fr": LanguageText(
        titles=(
            "{topic} : ce qu’il faut savoir",
            "Partie {n} : {topic} & auto-garde",
            "Pourquoi « {topic} » compte plus que jamais",
            "Guide pratique : {topic}",
        ),
        topics=(
            "les phrases de récupération",
            "les éléments sécurisés",
            "les portefeuilles multisig",
            "l’hameçonnage",
            "les mises à jour du micrologiciel",
            "le staking",
        ),
        sentences=(
            "L’auto-garde signifie que vous seul détenez les clés de vos actifs.",
            "Notre équipe de sécurité a relu chaque étape avant la publication.",
            "Un élément sécurisé est une puce conçue pour résister aux attaques physiques.",
            "Ne saisissez jamais votre phrase de récupération sur un ordinateur.",
            "Les attaquants cassent rarement la cryptographie : ils trompent les gens.",
        ),
        headings=("Pourquoi c’est important", "Comment ça marche", "Et ensuite"),
    ),
    "de": LanguageText(
        titles=(
            "{topic}: Was Sie wissen müssen",
            "Teil {n}: {topic} & Selbstverwahrung",
            "Warum „{topic}“ wichtiger ist denn je",
            "Ein praktischer Leitfaden zu {topic}",
        ),
        topics=(
            "Wiederherstellungsphrasen",
            "Secure Elements",
            "Multisig-Wallets",
            "Phishing-Angriffe",
            "Firmware-Updates",
            "Staking-Belohnungen",
        ),
        sentences=(
            "Selbstverwahrung heißt: Nur Sie besitzen die Schlüssel zu Ihren Vermögenswerten.",
            "Unser Sicherheitsteam hat jeden Schritt vor der Veröffentlichung geprüft.",
            "Ein Secure Element ist ein Chip, der physischen Angriffen widersteht.",
            "Geben Sie Ihre Wiederherstellungsphrase niemals an einem Computer ein.",
            "Angreifer knacken selten Kryptografie – sie täuschen Menschen.",
        ),
        headings=("Warum es wichtig ist", "Wie es funktioniert", "Wie es weitergeht"),
    ),
    "ru": LanguageText(
        titles=(
            "{topic}: что нужно знать",
            "Часть {n}: {topic} и самостоятельное хранение",
            "Почему «{topic}» важнее, чем когда-либо",
            "Практическое руководство: {topic}",
        ),
        topics=(
            "сид-фразы",
            "защищённые элементы",
            "мультиподписные кошельки",
            "фишинговые атаки",
            "обновления прошивки",
            "стейкинг",
        ),
        sentences=(
            "Самостоятельное хранение означает, что ключи от активов есть только у вас.",
            "Наша команда безопасности проверила каждый шаг перед выпуском.",
            "Защищённый элемент — это чип, устойчивый к физическим атакам.",
            "Никогда не вводите фразу восстановления на компьютере или телефоне.",
        ),
        headings=("Почему это важно", "Как это работает", "Что дальше"),
    ),
    "es": LanguageText(
        titles=(
            "{topic}: lo que necesitas saber",
            "Parte {n}: {topic} y autocustodia",
            "Por qué «{topic}» importa más que nunca",
            "Guía práctica de {topic}",
        ),
        topics=(
            "frases semilla",
            "elementos seguros",
            "billeteras multifirma",
            "ataques de phishing",
            "actualizaciones de firmware",
            "recompensas de staking",
        ),
        sentences=(
            "La autocustodia significa que solo tú tienes las claves de tus activos.",
            "Nuestro equipo de seguridad revisó cada paso antes del lanzamiento.",
            "Un elemento seguro es un chip diseñado para resistir ataques físicos.",
            "Nunca escribas tu frase de recuperación en un ordenador o un teléfono.",
        ),
        headings=("Por qué importa", "Cómo funciona", "Qué sigue"),
    ),
    "ja": LanguageText(
        titles=(
            "{topic}：知っておくべきこと",
            "第{n}回：{topic}とセルフカストディ",
            "なぜ「{topic}」がこれまで以上に重要なのか",
            "{topic}の実践ガイド",
        ),
        topics=(
            "リカバリーフレーズ",
            "セキュアエレメント",
            "マルチシグウォレット",
            "フィッシング攻撃",
            "ファームウェア更新",
            "ステーキング報酬",
        ),
        sentences=(
            "セルフカストディとは、資産の鍵をあなただけが持つということです。",
            "セキュリティチームはリリース前にすべての手順を確認しました。",
            "セキュアエレメントは物理攻撃に耐えるよう設計されたチップです。",
            "リカバリーフレーズをパソコンやスマートフォンに入力しないでください。",
        ),
        headings=("なぜ重要か", "仕組み", "今後の展開"),
    ),
    "ko": LanguageText(
        titles=(
            "{topic}: 알아야 할 모든 것",
            "{n}부: {topic}와 셀프 커스터디",
            "왜 ‘{topic}’가 그 어느 때보다 중요한가",
            "{topic} 실전 가이드",
        ),
        topics=(
            "복구 문구",
            "보안 요소",
            "멀티시그 지갑",
            "피싱 공격",
            "펌웨어 업데이트",
            "스테이킹 보상",
        ),
        sentences=(
            "셀프 커스터디란 자산의 키를 오직 당신만 가진다는 뜻입니다.",
            "보안 팀은 출시 전에 모든 단계를 검토했습니다.",
            "보안 요소는 물리적 공격에 견디도록 설계된 칩입니다.",
            "복구 문구를 컴퓨터나 휴대폰에 절대 입력하지 마세요.",
        ),
        headings=("왜 중요한가", "작동 방식", "다음 단계"),
    ),
    "tr": LanguageText(
        titles=(
            "{topic}: bilmeniz gerekenler",
            "Bölüm {n}: {topic} ve öz saklama",
            "“{topic}” neden her zamankinden önemli",
            "{topic} için pratik rehber",
        ),
        topics=(
            "kurtarma ifadeleri",
            "güvenli öğeler",
            "çoklu imza cüzdanları",
            "kimlik avı saldırıları",
            "yazılım güncellemeleri",
            "staking ödülleri",
        ),
        sentences=(
            "Öz saklama, varlıklarınızın anahtarlarına yalnızca sizin sahip olmanız demektir.",
            "Güvenlik ekibimiz yayından önce her adımı inceledi.",
            "Güvenli öğe, fiziksel saldırılara dayanmak için tasarlanmış bir çiptir.",
            "Kurtarma ifadenizi asla bir bilgisayara ya da telefona yazmayın.",
        ),
        headings=("Neden önemli", "Nasıl çalışır", "Sırada ne var"),
    ),
    "pt-br": LanguageText(
        titles=(
            "{topic}: o que você precisa saber",
            "Parte {n}: {topic} e autocustódia",
            "Por que “{topic}” importa mais do que nunca",
            "Guia prático de {topic}",
        ),
        topics=(
            "frases de recuperação",
            "elementos seguros",
            "carteiras multisig",
            "ataques de phishing",
            "atualizações de firmware",
            "recompensas de staking",
        ),
        sentences=(
            "Autocustódia significa que só você tem as chaves dos seus ativos.",
            "Nossa equipe de segurança revisou cada etapa antes do lançamento.",
            "Um elemento seguro é um chip projetado para resistir a ataques físicos.",
            "Nunca digite sua frase de recuperação em um computador ou celular.",
        ),
        headings=("Por que importa", "Como funciona", "O que vem a seguir"),
    ),
}
