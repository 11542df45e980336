# Company API keys move from integrations to accounts: the table stays, only Django's state moves.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_invitations'),
        ('integrations', '0002_one_integration_per_type'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CompanyApiKey',
                    fields=[
                        ('api_key', models.TextField(blank=True, null=True, unique=True)),
                        ('key_hash', models.CharField(blank=True, default='', max_length=64)),
                        ('key_last_four', models.CharField(blank=True, default='', max_length=4)),
                        ('previous_api_key', models.TextField(blank=True, null=True, unique=True)),
                        ('previous_key_hash', models.CharField(blank=True, default='', max_length=64)),
                        ('previous_valid_until', models.DateTimeField(blank=True, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('last_used_at', models.DateTimeField(blank=True, null=True)),
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True,
                                                serialize=False)),
                        ('name', models.CharField(max_length=100)),
                        ('scope', models.CharField(choices=[('read', 'Read only'), ('write', 'Read and write')],
                                                   max_length=8)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('company', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                      related_name='api_keys', to='accounts.company')),
                        ('created_by', models.ForeignKey(
                            help_text='The person the key acts as (the remover, once handed over).',
                            on_delete=django.db.models.deletion.CASCADE, related_name='+',
                            to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'api_keys',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['company', 'created_at'], name='api_keys_company_created')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name='companyapikey',
            name='revoked_reason',
            field=models.CharField(blank=True, choices=[('revoked', 'Revoked by staff.'),
                                                        ('creator_removed', 'Its creator was removed from the company.')],
                                   default='', max_length=32),
        ),
    ]
