namespace BatchRequest.Engine.Admission;

/// <summary>The ticket of an admission that holds nothing while an attempt runs and learns nothing from it.</summary>
internal sealed class NoTicket : IAdmissionTicket
{
    public static readonly NoTicket Instance = new();

    private NoTicket()
    {
    }

    public void Complete(AttemptFeedback feedback)
    {
    }

    public void Dispose()
    {
    }
}
