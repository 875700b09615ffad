import factory
from factory.django import DjangoModelFactory

from accounts.models import Holder, User

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    holder = factory.RelatedFactory("accounts.tests.factories.HolderFactory", "user")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class HolderFactory(DjangoModelFactory):
    class Meta:
        model = Holder

    user = factory.SubFactory(UserFactory, holder=None)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    address = factory.Faker("address")
