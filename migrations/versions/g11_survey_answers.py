"""survey answers: imported questionnaire responses (issue 11)

Revision ID: g11_survey_answers
Revises: e5_surveys
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.base


revision = 'g11_survey_answers'
down_revision = 'e5_surveys'
branch_labels = ('survey_answers',)
depends_on = None


def upgrade() -> None:
    op.create_table('surveyanswer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('response_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('strand', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('imported_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'partnership_id', name='uq_answer_partnership')
    )
    op.create_index(op.f('ix_surveyanswer_campaign_id'), 'surveyanswer', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_surveyanswer_partnership_id'), 'surveyanswer', ['partnership_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_surveyanswer_partnership_id'), table_name='surveyanswer')
    op.drop_index(op.f('ix_surveyanswer_campaign_id'), table_name='surveyanswer')
    op.drop_table('surveyanswer')
