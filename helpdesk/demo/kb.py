"""Demo help centre: articles in pt_BR and es for the demo company's categories (a telecom /
retail SAC), a few votes and uses, and the known-problem notice of the open billing
investigation ("Cobrança em duplicidade na fatura").
"""

from __future__ import annotations

import sqlalchemy as sa

from ..accounts.services import get_user_by_email
from ..extensions import db
from ..investigations.models import Investigation
from ..kb import problems, services
from ..kb.models import Article
from ..tickets.models import Category

# category (English name), tags, visibility, (pt title, pt body), (es title, es body)
ARTICLES = [
    (
        "Billing error",
        "fatura, boleto, segunda via",
        "public",
        (
            "Como emitir a segunda via da fatura",
            "<p>Você pode baixar a segunda via a qualquer hora, sem falar com a gente.</p>"
            "<ol><li>Entre em <strong>Minha conta › Faturas</strong>.</li>"
            "<li>Escolha o mês e clique em <strong>Baixar boleto</strong>.</li>"
            "<li>O código de barras vale até a data de vencimento; depois dela, gere um boleto atualizado com juros.</li></ol>"
            "<p>Prefere o Pix? O QR Code está na mesma página e a baixa é feita em até 1 hora.</p>",
        ),
        (
            "Cómo obtener un duplicado de la factura",
            "<p>Puedes descargar el duplicado cuando quieras, sin llamarnos.</p>"
            "<ol><li>Entra en <strong>Mi cuenta › Facturas</strong>.</li>"
            "<li>Elige el mes y pulsa <strong>Descargar factura</strong>.</li>"
            "<li>Después del vencimiento, genera una factura actualizada con los recargos.</li></ol>",
        ),
    ),
    (
        "Contestation of a charge",
        "cobrança, contestação, estorno",
        "public",
        (
            "Reconheço uma cobrança que não fiz: o que fazer?",
            "<p>Antes de contestar, confira se a cobrança não é de um serviço adicional contratado por outra pessoa da casa.</p>"
            "<h2>Como contestar</h2><ul><li>Abra uma demanda do tipo <em>reclamação</em>, assunto <em>Contestação de cobrança</em>.</li>"
            "<li>Informe o mês da fatura e o valor contestado.</li><li>Se já pagou, anexe o comprovante.</li></ul>"
            "<p>Durante a análise o valor contestado não é cobrado e o seu serviço não é suspenso. "
            "Se a cobrança for indevida, o estorno sai em dobro na fatura seguinte, como manda o Código de Defesa do Consumidor.</p>",
        ),
        (
            "No reconozco un cobro: ¿qué hago?",
            "<p>Antes de impugnar, revisa si el cargo no corresponde a un servicio adicional contratado por otra persona de tu hogar.</p>"
            "<h2>Cómo impugnar</h2><ul><li>Abre un reclamo con el asunto <em>Impugnación de un cobro</em>.</li>"
            "<li>Indica el mes de la factura y el importe.</li><li>Si ya pagaste, adjunta el comprobante.</li></ul>"
            "<p>Mientras lo revisamos, el importe impugnado no se cobra y tu servicio no se suspende.</p>",
        ),
    ),
    (
        "Cancellation",
        "cancelamento, multa, fidelidade",
        "public",
        (
            "Como cancelar o meu plano",
            "<p>O cancelamento é feito em qualquer canal e vale na hora: você recebe um protocolo e o comprovante por e-mail.</p>"
            "<p>Se o plano tiver fidelidade, a multa é proporcional aos meses que faltam. "
            "Os equipamentos em comodato devem ser devolvidos em até 30 dias em qualquer loja.</p>",
        ),
        (
            "Cómo dar de baja mi plan",
            "<p>Puedes darte de baja por cualquier canal y la baja es inmediata: recibes un número de seguimiento y el comprobante por correo.</p>"
            "<p>Si tu plan tiene permanencia, la penalización es proporcional a los meses que faltan.</p>",
        ),
    ),
    (
        "Delivery delay",
        "entrega, rastreio, prazo",
        "public",
        (
            "Meu pedido está atrasado",
            "<p>Acompanhe o pedido em <strong>Minha conta › Pedidos</strong>: o código de rastreio aparece assim que a transportadora coleta.</p>"
            "<p>Se o prazo informado na compra passou há mais de 2 dias úteis, abra uma demanda: reenviamos o produto ou devolvemos o valor, você escolhe.</p>",
        ),
        (
            "Mi pedido llega con retraso",
            "<p>Sigue tu pedido en <strong>Mi cuenta › Pedidos</strong>: el código de seguimiento aparece cuando la transportista lo recoge.</p>"
            "<p>Si pasaron más de 2 días hábiles desde la fecha prometida, abre una solicitud: reenviamos el producto o te devolvemos el importe.</p>",
        ),
    ),
    (
        "Defective product",
        "defeito, garantia, troca",
        "public",
        (
            "Produto com defeito: troca e garantia",
            "<p>Nos primeiros 7 dias após o recebimento, a troca é imediata em qualquer loja, com a nota fiscal.</p>"
            "<p>Depois disso vale a garantia de 90 dias (mais a do fabricante): leve o aparelho a uma assistência autorizada "
            "ou abra uma demanda para a coleta em casa. O conserto tem prazo máximo de 30 dias.</p>",
        ),
        (
            "Producto defectuoso: cambio y garantía",
            "<p>En los primeros 7 días tras la entrega, el cambio es inmediato en cualquier tienda con la factura.</p>"
            "<p>Después rige la garantía legal: lleva el equipo a un servicio técnico autorizado o pide la recogida a domicilio.</p>",
        ),
    ),
    (
        "Suspension",
        "suspensão, religação, pagamento",
        "public",
        (
            "Minha linha foi suspensa: como religar",
            "<p>A suspensão acontece 15 dias depois do aviso de débito. Pague a fatura em aberto: com Pix a religação é automática em até 2 horas; "
            "com boleto, até 24 horas após a compensação.</p>",
        ),
        (
            "Mi línea fue suspendida: cómo reactivarla",
            "<p>La suspensión ocurre 15 días después del aviso de deuda. Paga la factura pendiente: la reactivación es automática en hasta 24 horas.</p>",
        ),
    ),
    (
        "Information",
        "cadastro, dados, titularidade",
        "customers",
        (
            "Como alterar meus dados cadastrais",
            "<p>Endereço, telefone e e-mail mudam em <strong>Minha conta › Dados</strong>. "
            "Nome e CPF só mudam com documento: abra uma demanda e anexe uma foto do documento.</p>",
        ),
        (
            "Cómo cambiar mis datos personales",
            "<p>Dirección, teléfono y correo se cambian en <strong>Mi cuenta › Datos</strong>. "
            "El nombre y el documento solo cambian con comprobante: abre una solicitud y adjúntalo.</p>",
        ),
    ),
    (
        "Question",
        "protocolo, atendimento, prazo",
        "public",
        (
            "O que é o número de protocolo e para que serve",
            "<p>Toda demanda recebe um protocolo na hora, em qualquer canal. Guarde-o: com ele você acompanha a demanda por telefone, e-mail ou site "
            "sem repetir a história. Respondemos em até 7 dias.</p>",
        ),
        (
            "Qué es el número de seguimiento",
            "<p>Cada solicitud recibe un número de seguimiento al instante, en cualquier canal. Con él consultas el estado por teléfono, correo o web "
            "sin repetir tu caso. Respondemos en un máximo de 7 días.</p>",
        ),
    ),
    (
        "Billing error",
        "débito automático, fatura",
        "public",
        (
            "Como cadastrar o débito automático",
            "<p>Cadastre o débito em <strong>Minha conta › Pagamento</strong> ou no app do seu banco com o código do cliente que está na fatura. "
            "A primeira fatura depois do cadastro ainda vem com boleto.</p>",
        ),
        (
            "Cómo activar el débito automático",
            "<p>Actívalo en <strong>Mi cuenta › Pago</strong> o en la app de tu banco con el código de cliente de la factura. "
            "La primera factura después de activarlo todavía llega para pagar manualmente.</p>",
        ),
    ),
    (
        "Suggestion for improvement",
        "sugestão, ideia",
        "public",
        (
            "Como enviar uma sugestão",
            "<p>Gostamos de ouvir ideias. Abra uma demanda do tipo <em>sugestão</em>: ela chega à área responsável e você recebe a resposta no mesmo protocolo.</p>",
        ),
        (
            "Cómo enviar una sugerencia",
            "<p>Nos encanta escuchar ideas. Abre una solicitud de tipo <em>sugerencia</em>: llega al área responsable y te respondemos con el mismo número.</p>",
        ),
    ),
    (
        "Complaint",
        "ouvidoria, escalonamento, reclamação",
        "public",
        (
            "Minha demanda não foi resolvida: como falar com a ouvidoria",
            "<p>Se a resposta não resolveu, marque a demanda como <strong>não resolvida</strong> no portal: ela é reaberta e você pode pedir o escalonamento. "
            "Depois da primeira instância, a ouvidoria analisa o caso em até 10 dias.</p>",
        ),
        (
            "Mi caso no se resolvió: cómo llegar a la defensoría del cliente",
            "<p>Si la respuesta no resolvió tu caso, márcalo como <strong>no resuelto</strong> en el portal: se reabre y puedes pedir el escalamiento.</p>",
        ),
    ),
    (
        "Contestation of a charge",
        "estorno, procedimento",
        "internal",
        (
            "Procedimento interno: estorno de cobrança em duplicidade",
            "<p>Confirme a duplicidade no extrato do cliente, abra o estorno no sistema de faturamento (código EST-02) e informe o número do estorno na resposta. "
            "Prazo: 5 dias úteis. Vincule a demanda à investigação de duplicidade aberta.</p>",
        ),
        None,
    ),
]

NOTICE = {
    "pt_BR": {
        "title": "Cobrança em duplicidade na fatura com débito automático",
        "affected": "Clientes com débito automático podem ter a mesma fatura debitada duas vezes neste mês.",
        "workaround": "Não é preciso abrir demanda: o valor a mais é estornado automaticamente em até 5 dias úteis. Se precisar do dinheiro antes, fale com a gente.",
        "expected_fix": "A correção do sistema de remessa ao banco está em andamento.",
    },
    "es": {
        "title": "Cobro duplicado en la factura con débito automático",
        "affected": "Clientes con débito automático pueden tener la misma factura debitada dos veces este mes.",
        "workaround": "No hace falta abrir una solicitud: el importe extra se devuelve automáticamente en hasta 5 días hábiles.",
        "expected_fix": "Estamos corrigiendo el envío de archivos al banco.",
    },
}


def load_knowledge_base() -> str:
    """The demo's help centre; nothing is added twice."""
    if db.session.scalar(sa.select(Article.id).limit(1)) is not None:
        return "help centre already loaded"
    supervisor = get_user_by_email("supervisora@demo.sac")
    agent = get_user_by_email("agente@demo.sac")
    categories = {c.name: c.id for c in db.session.scalars(sa.select(Category))}
    count = 0
    for i, (category, tags, visibility, pt, es) in enumerate(ARTICLES):
        first = services.create_article(
            agent, language="pt_BR", title=pt[0], body=pt[1], category_id=categories.get(category),
            tags=tags, visibility=visibility, status="review",
        )  # fmt: skip
        services.change_status(first, supervisor, "published", note="Revisado")
        count += 1
        if es is not None:
            second = services.create_article(
                agent, language="es", title=es[0], body=es[1], tags=tags,
                visibility=visibility, status="review", translation_of=first,
            )  # fmt: skip
            services.change_status(second, supervisor, "published")
            count += 1
        for n in range(i % 4):  # some readers found them helpful
            services.record_vote(first, helpful=n != 2)
    inv = db.session.scalar(
        sa.select(Investigation).where(Investigation.title == "Cobrança em duplicidade na fatura")
    )
    notices = 0
    if inv is not None and inv.is_active:
        problems.publish_notice(inv, supervisor, texts=NOTICE)
        notices = 1
    db.session.flush()
    return f"{count} help-centre articles, {notices} known problem"
